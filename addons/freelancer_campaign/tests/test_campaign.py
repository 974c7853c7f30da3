import itertools
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import email_normalize

from odoo.addons.freelancer_wechat.tests.fake_wechat_api import FakeWechatApi
from odoo.addons.mass_mailing_sms.tests.common import MassSMSCommon

# 10:00 in Shanghai, inside the default SMS sending window.
SEND_TIME = datetime(2026, 11, 18, 2, 0, 0)
CHANNELS = ("wechat", "email", "sms")
COST_ORDER = ("wechat", "email", "sms")
APP_ID = "wxcampaign0000001"


def expected_channel(consents, preferred):
    """The rule, written out: preference if consented, else the cheapest consented channel."""
    if not consents:
        return None
    if preferred in consents:
        return preferred
    return next(channel for channel in COST_ORDER if channel in consents)


@tagged("post_install", "-at_install")
class TestCampaign(MassSMSCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake_api = FakeWechatApi(app_id=APP_ID)
        cls.fake_api.start()
        cls.addClassCleanup(cls.fake_api.stop)
        cls.account = cls.env["wechat.account"].create(
            {
                "name": "手作小记",
                "app_id": APP_ID,
                "app_secret": cls.fake_api.secret,
                "token": "campaignToken1",
                "api_base_url": cls.fake_api.base_url,
            }
        )
        params = cls.env["ir.config_parameter"]
        params.set_param("freelancer_campaign.cap_count", 2)
        params.set_param("freelancer_campaign.cap_days", 7)
        params.set_param("freelancer_mass_mail.sms_signature", "手作小记")
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

    @classmethod
    def _create_fan(cls, name, consents, preferred, wrote_hours_ago=1):
        number = 13900000000 + len(cls.fans)
        fan = cls.env["res.partner"].create(
            {
                "name": name,
                "is_fan": True,
                "email": f"fan{len(cls.fans)}@example.com",
                "phone": f"+86{number}",
                "fan_preferred_channel": preferred,
            }
        )
        for channel in consents:
            fan._fan_record_consent(channel, "grant", "manual")
        if "wechat" in consents:
            openid = f"oCampaign{len(cls.fans):04d}"
            fan._fan_add_identities({"wechat_openid": openid}, account_key=APP_ID)
            cls.env["wechat.message"].create(
                {
                    "account_id": cls.account.id,
                    "partner_id": fan.id,
                    "openid": openid,
                    "direction": "in",
                    "msg_type": "text",
                    "content": "你好",
                    "create_time": fields.Datetime.now() - timedelta(hours=wrote_hours_ago),
                }
            )
        return fan

    def _campaign(self, **values):
        return self.env["fan.campaign"].create(
            dict(
                {
                    "name": "冬季工作坊",
                    "segment_id": self.segment.id,
                    "wechat_account_id": self.account.id,
                    "wechat_text": "冬季工作坊开始报名了,回复「报名」占座。",
                    "email_subject": "冬季工作坊开始报名",
                    "email_from": "手作小记 <studio@example.com>",
                    "email_body": "<p>冬季工作坊开始报名了。</p>",
                    "sms_body": "冬季工作坊开始报名,详情见公众号。",
                },
                **values,
            )
        )

    def _send(self, campaign):
        with freeze_time(SEND_TIME), self.mock_mail_gateway(), self.mockSMSGateway():
            campaign.action_send()
            self.env["mail.mail"].sudo().process_email_queue()
            outgoing = self.env["sms.sms"].sudo().search([("state", "=", "outgoing")])
            if outgoing:
                outgoing._send()
        return (
            {msg["touser"] for msg in self.fake_api.custom_messages},
            {
                email_normalize(address)
                for mail in self._mails
                for address in mail["email_to"]
                if email_normalize(address).startswith("fan")
            },
            {sms["number"] for sms in self._sms},
        )

    def _identity(self, fan):
        return fan.fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid").value

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
        wechat_to, email_to, sms_to = self._send(second)
        self.assertFalse(wechat_to | email_to | sms_to, "every reached fan is at the cap")
        capped = second.recipient_ids.filtered(lambda r: r.state == "capped")
        self.assertEqual(len(capped), len(self.fans) - 4)

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
