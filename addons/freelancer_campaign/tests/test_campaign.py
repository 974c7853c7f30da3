import itertools
import smtplib
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SEND_TIME, CampaignCase

CHANNELS = ("wechat", "email", "sms")
COST_ORDER = ("wechat", "email", "sms")


def expected_channel(consents, preferred):
    """The rule, written out: preference if consented, else the cheapest consented channel."""
    if not consents:
        return None
    if preferred in consents:
        return preferred
    return next(channel for channel in COST_ORDER if channel in consents)


@tagged("post_install", "-at_install")
class TestCampaign(CampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fans = {}
        with freeze_time(SEND_TIME):
            for index, (consents, preferred) in enumerate(
                itertools.product(cls._subsets(), (False, *CHANNELS))
            ):
                fan = cls._create_fan(f"混合{index:02d}", consents, preferred)
                cls.fans[fan] = (consents, preferred)
        cls.segment = cls.env["fan.segment"].create(
            {"name": "混合", "extra_domain": "[('name', '=like', '混合%')]"}
        )

    @classmethod
    def _subsets(cls):
        for size in range(len(CHANNELS) + 1):
            yield from (frozenset(c) for c in itertools.combinations(CHANNELS, size))

    def _fan_with(self, consents, preferred=False):
        return next(
            fan
            for fan, (fan_consents, fan_preferred) in self.fans.items()
            if fan_consents == set(consents) and fan_preferred == preferred
        )

    def test_each_fan_once_on_expected_channel(self):
        self.fake_api.custom_messages.clear()
        campaign = self._campaign()
        with freeze_time(SEND_TIME):
            campaign.action_plan()
        self.assertEqual(campaign.state, "planned")
        wechat_to, email_to, sms_to = self._send(campaign)
        for fan, (consents, preferred) in self.fans.items():
            expected = expected_channel(consents, preferred)
            got = {
                "wechat": self._identity(fan) in wechat_to,
                "email": fan.email in email_to,
                "sms": fan.fan_mobile in sms_to,
            }
            with self.subTest(fan=fan.name, consents=sorted(consents), preferred=preferred):
                self.assertEqual(
                    [channel for channel, sent in got.items() if sent],
                    [expected] if expected else [],
                )
                recipient = campaign.recipient_ids.filtered(lambda r, f=fan: r.partner_id == f)
                self.assertEqual(recipient.state, "sent" if expected else "unreachable")
                self.assertEqual(recipient.channel or None, expected)
        self.assertEqual(len(self.fake_api.custom_messages), len(wechat_to))
        self.assertEqual(campaign.unreachable_count, 4)
        self.assertEqual(campaign.state, "sent")

    def test_report_counts_per_channel(self):
        self.fake_api.custom_messages.clear()
        campaign = self._campaign()
        wechat_to, email_to, sms_to = self._send(campaign)
        self.assertEqual(campaign.wechat_sent_count, len(wechat_to))
        self.assertEqual(campaign.email_sent_count, len(email_to))
        self.assertEqual(campaign.sms_sent_count, len(sms_to))
        self.assertEqual(campaign.reached_count, len(wechat_to) + len(email_to) + len(sms_to))
        self.assertEqual(campaign.reached_count, len(self.fans) - 4)
        self.assertEqual(campaign.sms_part_count, len(sms_to))
        self.assertAlmostEqual(campaign.sms_cost, len(sms_to) * 0.045)
        email_fan = campaign.recipient_ids.filtered(lambda r: r.channel == "email")[:1].partner_id
        email_fan._fan_record_consent("email", "withdraw", "unsubscribe_link")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.email_optout_count, 1)
        self.assertEqual(campaign.optout_count, 1)

    def test_frequency_cap_across_campaigns(self):
        self.env["ir.config_parameter"].set_param("freelancer_campaign.cap_count", 1)
        self.fake_api.custom_messages.clear()
        first = self._campaign()
        self._send(first)
        second = self._campaign(name="第二次")
        self.fake_api.custom_messages.clear()
        capped = len(self.fans) - 4
        with self.assertRaisesRegex(
            UserError, f"4 cannot be reached on any channel .* and {capped} are over the frequency"
        ):
            self._send(second)
        self.assertFalse(self.fake_api.custom_messages, "every reached fan is at the cap")
        self.assertFalse(second.mailing_ids)
        self.assertEqual(second.state, "draft")

    def test_cap_counts_plain_mailings(self):
        self.env["ir.config_parameter"].set_param("freelancer_campaign.cap_count", 1)
        fan = next(f for f, (consents, _p) in self.fans.items() if consents == {"email"})
        with freeze_time(SEND_TIME):
            self.env["mailing.trace"].create(
                {"model": "res.partner", "res_id": fan.id, "trace_status": "sent",
                 "email": fan.email, "trace_type": "mail"}
            )  # fmt: skip
        campaign = self._campaign()
        with freeze_time(SEND_TIME):
            campaign.action_plan()
        recipient = campaign.recipient_ids.filtered(lambda r: r.partner_id == fan)
        self.assertEqual(recipient.state, "capped")

    def test_wechat_failure_falls_back(self):
        fan = next(
            f for f, (consents, preferred) in self.fans.items()
            if consents == {"wechat", "email"} and not preferred
        )  # fmt: skip
        self.fake_api.custom_messages.clear()
        campaign = self._campaign(segment_id=self.env["fan.segment"].create(
            {"name": "一人", "extra_domain": repr([("id", "=", fan.id)])}).id)  # fmt: skip
        self.fake_api.fail("/cgi-bin/message/custom/send", 45015)
        wechat_to, email_to, _sms_to = self._send(campaign)
        self.assertFalse(wechat_to)
        self.assertEqual(email_to, {fan.email})
        recipient = campaign.recipient_ids
        self.assertEqual((recipient.channel, recipient.state), ("email", "sent"))
        self.assertIn("45015", recipient.reason)

    def test_retry_failed_sends_once(self):
        fan = next(
            f for f, (consents, preferred) in self.fans.items()
            if consents == {"wechat"} and not preferred
        )  # fmt: skip
        segment = self.env["fan.segment"].create(
            {"name": "一人", "extra_domain": repr([("id", "=", fan.id)])}
        )
        campaign = self._campaign(segment_id=segment.id)
        self.fake_api.custom_messages.clear()
        self.fake_api.fail("/cgi-bin/message/custom/send", 45015)
        wechat_to, _email_to, _sms_to = self._send(campaign)
        self.assertFalse(wechat_to)
        self.assertEqual(campaign.state, "sent")
        self.assertEqual(campaign.failed_count, 1)
        self.assertIn("45015", campaign.recipient_ids.reason)
        with freeze_time(SEND_TIME):
            campaign.action_retry_failed()
        self.assertEqual(campaign.recipient_ids.state, "sent")
        self.assertEqual(
            [message["touser"] for message in self.fake_api.custom_messages], [self._identity(fan)]
        )
        with self.assertRaises(UserError):
            campaign.action_retry_failed()

    def test_engagement_decides_without_preference(self):
        fan = next(
            f for f, (consents, preferred) in self.fans.items()
            if consents == {"email", "sms"} and not preferred
        )  # fmt: skip
        with freeze_time(SEND_TIME):
            for _index in range(3):
                fan._fan_log_interaction("sms_reply")
            campaign = self._campaign()
            campaign.action_plan()
        recipient = campaign.recipient_ids.filtered(lambda r: r.partner_id == fan)
        self.assertEqual(recipient.channel, "sms")
        self.assertEqual(recipient.fallback_channels, "email")

    def test_wechat_needs_recent_message(self):
        with freeze_time(SEND_TIME):
            fan = self._create_fan("混合旧", frozenset({"wechat"}), False, wrote_hours_ago=49)
            campaign = self._campaign()
            campaign.action_plan()
        recipient = campaign.recipient_ids.filtered(lambda r: r.partner_id == fan)
        self.assertEqual(recipient.state, "unreachable")

    def test_sent_campaign_cannot_be_sent_again(self):
        campaign = self._campaign(use_wechat=False, use_sms=False)
        self._send(campaign)
        with self.assertRaises(UserError):
            campaign.action_send()

    def test_missing_content_rejected(self):
        with self.assertRaisesRegex(UserError, "SMS"):
            self._campaign(sms_body=False).action_plan()
        with self.assertRaisesRegex(UserError, "email subject and body"):
            self._campaign(email_body="<p><br></p>").action_plan()
        with self.assertRaisesRegex(UserError, "at least one channel"):
            self._campaign(use_wechat=False, use_email=False, use_sms=False).action_plan()

    def test_sms_preview_adds_signature_and_refusal(self):
        campaign = self._campaign()
        self.assertTrue(campaign.sms_preview.startswith("【"))
        self.assertIn(campaign.sms_body, campaign.sms_preview)
        self.assertEqual(campaign.sms_preview_parts, 1)

    def _refuse_at_smtp(self, refused):
        """Make the mocked SMTP server refuse the address ``refused`` (550 5.1.1)."""
        session = self.testing_smtp_session
        send_message = session.send_message

        def refuse(message, smtp_from, smtp_to_list):
            if refused in smtp_to_list:
                raise smtplib.SMTPRecipientsRefused({refused: (550, b"5.1.1 Mailbox unavailable")})
            return send_message(message, smtp_from, smtp_to_list)

        return patch.object(session, "send_message", side_effect=refuse)

    def test_smtp_refusal_fails_then_retry(self):
        email_fans = [self._fan_with({"email"}, preferred) for preferred in (False, *CHANNELS)]
        refused_fan = email_fans[1]
        campaign = self._campaign(
            segment_id=self._segment_of(self.env["res.partner"].union(*email_fans)).id,
            use_wechat=False,
            use_sms=False,
        )
        with freeze_time(SEND_TIME):
            campaign.action_plan()
        with (
            freeze_time(SEND_TIME),
            self.mock_mail_gateway(),
            self._refuse_at_smtp(refused_fan.email),
            mute_logger("odoo.addons.mail.models.mail_mail"),
        ):
            campaign.action_send()
            self.env["mail.mail"].sudo().process_email_queue()
            accepted = {address for email in self.emails for address in email["smtp_to_list"]}
        self.assertEqual(accepted, {fan.email for fan in email_fans} - {refused_fan.email})

        refused = self._recipient(campaign, refused_fan)
        self.assertEqual(refused.state, "failed")
        self.assertEqual(refused.trace_status, "error")
        self.assertIn("5.1.1 Mailbox unavailable", refused.reason)
        for fan in email_fans:
            if fan != refused_fan:
                recipient = self._recipient(campaign, fan)
                self.assertEqual(recipient.state, "sent", fan.name)
                self.assertEqual(recipient.trace_status, "sent", fan.name)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.email_sent_count, 3)
        self.assertEqual(campaign.email_failed_count, 1)
        self.assertEqual(campaign.reached_count, 3)
        self.assertEqual(campaign.failed_count, 1)

        first_mailing = campaign.mailing_ids
        _wechat_to, email_to, _sms_to = self._deliver(
            campaign.action_retry_failed, at=SEND_TIME + timedelta(hours=2)
        )
        self.assertEqual(email_to, {refused_fan.email})
        self.assertEqual(refused.state, "sent")
        self.assertFalse(refused.reason)
        self.assertEqual(campaign.sent_date, SEND_TIME, "opt-outs count from the first send")
        self.assertEqual(refused.channel, "email")
        self.assertEqual(refused.trace_status, "sent")
        self.assertNotEqual(refused.mailing_id, first_mailing)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.email_sent_count, 4)
        self.assertEqual(campaign.email_failed_count, 0)
        self.assertEqual(campaign.reached_count, 4)

        # The first mailing keeps only the fans it reached, so sending it again reaches no other.
        self.assertEqual(
            sorted(first_mailing._get_recipients()),
            sorted(fan.id for fan in email_fans if fan != refused_fan),
        )
        with self.assertRaises(UserError):
            campaign.action_retry_failed()

    def test_bounce_retries_on_next_channel(self):
        fan = self._fan_with({"email", "sms"}, "email")
        other = self._fan_with({"email"})
        campaign = self._campaign(segment_id=self._segment_of(fan | other).id)
        _wechat_to, email_to, sms_to = self._send(campaign)
        self.assertEqual(email_to, {fan.email, other.email})
        self.assertFalse(sms_to)

        recipient = self._recipient(campaign, fan)
        recipient.trace_id.set_bounced(bounce_message="550 5.1.1 <fan> user unknown")
        self.assertEqual(recipient.state, "failed")
        self.assertEqual(recipient.trace_status, "bounce")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.email_sent_count, 1)
        self.assertEqual(campaign.reached_count, 1)

        _wechat_to, email_to, sms_to = self._deliver(campaign.action_retry_failed)
        self.assertFalse(email_to)
        self.assertEqual(sms_to, {fan.fan_mobile})
        self.assertEqual((recipient.channel, recipient.state), ("sms", "sent"))
        self.assertEqual(self._recipient(campaign, other).state, "sent")
        campaign.invalidate_recordset()
        self.assertEqual(campaign.sms_sent_count, 1)
        self.assertEqual(campaign.reached_count, 2)

    def test_bounce_without_other_channel_stays_failed(self):
        fan = self._fan_with({"email"})
        campaign = self._campaign(segment_id=self._segment_of(fan).id)
        self._send(campaign)
        recipient = self._recipient(campaign, fan)
        recipient.trace_id.set_bounced(bounce_message="550 5.1.1 user unknown")
        with self.assertRaisesRegex(UserError, "can be sent again now"):
            campaign.action_retry_failed()
        self.assertEqual(recipient.state, "failed")
