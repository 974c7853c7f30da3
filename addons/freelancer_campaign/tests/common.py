from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tools import email_normalize

from odoo.addons.freelancer_wechat.tests.fake_wechat_api import FakeWechatApi
from odoo.addons.mass_mailing_sms.tests.common import MassSMSCommon

# 10:00 in Shanghai, inside the default SMS sending window.
SEND_TIME = datetime(2026, 11, 18, 2, 0, 0)
APP_ID = "wxcampaign0000001"


class CampaignCase(MassSMSCommon):
    """Campaigns against the fake WeChat API, Odoo's mail gateway mock and SMS mock."""

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
        cls.fan_count = 0

    @classmethod
    def _create_fan(cls, name, consents, preferred=False, wrote_hours_ago=1):
        """Create a fan with consent on ``consents``, and an OpenID when WeChat is one.

        ``wrote_hours_ago`` is the age of the WeChat fan's last message to the
        account, or None for a follower who never wrote.
        """
        number = 13900000000 + cls.fan_count
        fan = cls.env["res.partner"].create(
            {
                "name": name,
                "is_fan": True,
                "email": f"fan{cls.fan_count}@example.com",
                "phone": f"+86{number}",
                "fan_preferred_channel": preferred,
            }
        )
        for channel in consents:
            fan._fan_record_consent(channel, "grant", "manual")
        if "wechat" in consents:
            openid = f"oCampaign{cls.fan_count:04d}"
            fan._fan_add_identities({"wechat_openid": openid}, account_key=APP_ID)
            if wrote_hours_ago is not None:
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
        cls.fan_count += 1
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

    def _segment_of(self, partners, name="指定"):
        return self.env["fan.segment"].create(
            {"name": name, "extra_domain": repr([("id", "in", partners.ids)])}
        )

    def _deliver(self, action, at=SEND_TIME):
        """Run ``action`` at ``at``, deliver its emails and SMS, and return who got what.

        Returns the OpenIDs that got a customer-service message, and the email
        addresses and phone numbers of fans that got an email or an SMS.
        """
        custom_before = len(self.fake_api.custom_messages)
        with freeze_time(at), self.mock_mail_gateway(), self.mockSMSGateway():
            action()
            self.env["mail.mail"].sudo().process_email_queue()
            outgoing = self.env["sms.sms"].sudo().search([("state", "=", "outgoing")])
            if outgoing:
                outgoing._send()
        return (
            {msg["touser"] for msg in self.fake_api.custom_messages[custom_before:]},
            {
                email_normalize(address)
                for mail in self._mails
                for address in mail["email_to"]
                if email_normalize(address).startswith("fan")
            },
            {sms["number"] for sms in self._sms},
        )

    def _send(self, campaign):
        return self._deliver(campaign.action_send)

    def _identity(self, fan):
        return fan.fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid").value

    def _recipient(self, campaign, fan):
        return campaign.recipient_ids.filtered(lambda r: r.partner_id == fan)
