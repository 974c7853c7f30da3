from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.sql_db import Cursor
from odoo.tests import BaseCase, get_db_name, tagged


@tagged("post_install", "-at_install")
class TestConcurrentSend(BaseCase):
    """Two sends of one campaign in two real transactions, as two users would start them.

    The campaign is committed so that both transactions see it, and deleted
    again when the test ends.
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            self.assertIsInstance(cr, Cursor, "the test needs real, separate transactions")
            env = api.Environment(cr, SUPERUSER_ID, {})
            fan = env["res.partner"].create(
                {"name": "并发测试粉丝", "is_fan": True, "email": "concurrent.fan@example.com"}
            )
            fan._fan_record_consent("email", "grant", "manual")
            segment = env["fan.segment"].create(
                {"name": "并发测试", "extra_domain": repr([("id", "=", fan.id)])}
            )
            campaign = env["fan.campaign"].create(
                {
                    "name": "并发发送",
                    "segment_id": segment.id,
                    "use_wechat": False,
                    "use_sms": False,
                    "email_subject": "并发发送",
                    "email_from": "手作小记 <studio@example.com>",
                    "email_body": "<p>只发一次。</p>",
                }
            )
            self.fan_id, self.segment_id, self.campaign_id = fan.id, segment.id, campaign.id
        self.addCleanup(self._delete_committed_records)

    def _delete_committed_records(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            campaign = env["fan.campaign"].browse(self.campaign_id)
            env["mail.mail"].search([("mailing_id", "in", campaign.mailing_ids.ids)]).unlink()
            campaign.mailing_ids.unlink()
            campaign.unlink()
            env["fan.segment"].browse(self.segment_id).unlink()
            # The consent ledger keeps its partners (ondelete restrict); this test's
            # entries go first.
            cr.execute("DELETE FROM fan_consent WHERE partner_id = %s", [self.fan_id])
            env["res.partner"].browse(self.fan_id).unlink()

    def _open_second(self, cr):
        # Without the campaign's lock, the second send would wait for the first one
        # forever, since both run in this thread: make it fail instead.
        cr.execute("SET LOCAL lock_timeout = '5s'")
        return api.Environment(cr, SUPERUSER_ID, {})["fan.campaign"]

    def test_second_send_stops_while_first_runs(self):
        with self.registry.cursor() as first_cr, self.registry.cursor() as second_cr:
            first = api.Environment(first_cr, SUPERUSER_ID, {})["fan.campaign"]
            second = self._open_second(second_cr)
            # The first send runs and has not committed yet.
            first.browse(self.campaign_id).action_send()
            # Tests never hand emails to an SMTP server, so the email stays queued.
            self.assertEqual(first.browse(self.campaign_id).state, "sending")

            with self.assertRaisesRegex(UserError, "already being sent"):
                second.browse(self.campaign_id).action_send()

            second_cr.rollback()
            self.assertEqual(len(first.browse(self.campaign_id).mailing_ids), 1)
            first_cr.commit()

        with self.registry.cursor() as cr:
            campaign = api.Environment(cr, SUPERUSER_ID, {})["fan.campaign"].browse(
                self.campaign_id
            )
            self.assertEqual(campaign.state, "sending")
            self.assertEqual(len(campaign.mailing_ids), 1)
            self.assertEqual(campaign.recipient_ids.state, "queued")
            with self.assertRaisesRegex(UserError, "already been sent"):
                campaign.action_send()

    def test_second_send_after_snapshot_stops(self):
        with self.registry.cursor() as first_cr, self.registry.cursor() as second_cr:
            first = api.Environment(first_cr, SUPERUSER_ID, {})["fan.campaign"]
            second = self._open_second(second_cr)
            # The second transaction reads the campaign before the first commits its send.
            self.assertEqual(second.browse(self.campaign_id).state, "draft")
            first.browse(self.campaign_id).action_send()
            first_cr.commit()

            with self.assertRaisesRegex(UserError, "already being sent"):
                second.browse(self.campaign_id).action_send()
            second_cr.rollback()
