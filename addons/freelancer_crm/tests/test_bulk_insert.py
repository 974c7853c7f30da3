from odoo import fields
from odoo.tests import tagged

from ..tools import bulk_insert
from .common import FanCase


@tagged("post_install", "-at_install")
class TestBulkInsert(FanCase):
    def _grant_vals(self, partner, channel="wechat"):
        return {
            "partner_id": partner.id,
            "channel": channel,
            "action": "grant",
            "source": "wechat_follow",
            "date": fields.Datetime.now(),
            "user_id": self.env.uid,
            "address": "oBulk",
            "proof": "bulk",
        }

    def test_new_rows_visible_and_recomputed(self):
        fans = self._create_fan("批量甲") | self._create_fan("批量乙")
        # Read the ledger first, so that a stale cache would hide the new rows.
        self.assertFalse(fans.fan_consent_ids)
        self.assertEqual(fans.mapped("consent_wechat"), ["none", "none"])

        entries = bulk_insert(self.env["fan.consent"], [self._grant_vals(fan) for fan in fans])

        self.assertEqual(len(entries), 2)
        self.assertEqual(entries.partner_id, fans)
        self.assertEqual(entries.mapped("create_uid"), self.env.user)
        for fan in fans:
            self.assertEqual(fan.fan_consent_ids.channel, "wechat")
            self.assertEqual(fan.consent_wechat, "granted")
            self.assertEqual(fan.consent_email, "none")
        self.assertEqual(
            self.Partner.search_count([("id", "in", fans.ids), ("consent_wechat", "=", "granted")]),
            2,
        )

    def test_rows_split_into_statements(self):
        fan = self._create_fan("批量丙")
        vals = [
            {
                "partner_id": fan.id,
                "channel": "wechat_openid",
                "value": f"oBulkMany{index:05d}",
                "account_key": "wxbulk",
                "source": "wechat",
                "active": True,
            }
            for index in range(2500)
        ]

        identities = bulk_insert(self.env["fan.identity"], vals)

        self.assertEqual(len(identities), 2500)
        self.assertEqual(len(fan.fan_identity_ids), 2500)
        self.assertEqual(identities[-1:].value, "oBulkMany02499")

    def test_non_column_fields_rejected(self):
        fan = self._create_fan("批量丁")
        with self.assertRaises(ValueError):
            bulk_insert(self.env["res.partner"], [{"name": "x", "consent_wechat": "granted"}])
        with self.assertRaises(ValueError):
            bulk_insert(
                self.env["fan.consent"],
                [{"partner_id": fan.id, "channel": "wechat", "fan_consent_ids": False}],
            )
        self.assertEqual(bulk_insert(self.env["fan.consent"], []), self.env["fan.consent"])
