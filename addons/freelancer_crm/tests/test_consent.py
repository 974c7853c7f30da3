from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import FanCase


@tagged("post_install", "-at_install")
class TestConsent(FanCase):
    def test_state_follows_newest_entry(self):
        fan = self._create_fan("陈静", email="chen.jing@example.com")
        self.assertEqual(fan.consent_email, "none")
        fan._fan_record_consent("email", "request", "import", address=fan.email)
        self.assertEqual(fan.consent_email, "pending")
        fan._fan_record_consent("email", "grant", "double_optin", ip_address="127.0.0.1")
        self.assertEqual(fan.consent_email, "granted")
        fan._fan_record_consent("email", "withdraw", "unsubscribe_link")
        self.assertEqual(fan.consent_email, "withdrawn")
        self.assertEqual(fan.consent_sms, "none")
        self.assertEqual(len(fan.fan_consent_ids), 3)

    def test_channels_are_independent(self):
        fan = self._create_fan("黄勇", email="hy@example.com", phone="13600136000")
        fan._fan_record_consent("sms", "grant", "web_form")
        fan._fan_record_consent("wechat", "grant", "wechat_follow")
        fan._fan_record_consent("wechat", "withdraw", "wechat_unfollow")
        self.assertEqual(fan.consent_sms, "granted")
        self.assertEqual(fan.consent_wechat, "withdrawn")
        self.assertEqual(fan.consent_email, "none")

    def test_ledger_entries_immutable(self):
        fan = self._create_fan("林芳", email="lin.fang@example.com")
        entry = fan._fan_record_consent("email", "grant", "manual", proof="电话确认")
        with self.assertRaises(UserError):
            entry.write({"action": "withdraw"})
        with self.assertRaises(UserError):
            entry.unlink()
        self.assertEqual(entry.action, "grant")
        self.assertEqual(entry.user_id, self.env.user)

    def test_consent_domain_requires_address(self):
        no_mail = self._create_fan("无邮箱", phone="13500135000")
        no_mail._fan_record_consent("email", "grant", "manual")
        with_mail = self._create_fan("有邮箱", email="you@example.com")
        with_mail._fan_record_consent("email", "grant", "manual")
        reachable = self.Partner.search(self.Partner._fan_consent_domain("email"))
        self.assertIn(with_mail, reachable)
        self.assertNotIn(no_mail, reachable)
