from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..tools import parse_window_time
from .common import FanMassMailCommon
from .sms_common import IN_WINDOW, FanSmsProviderCommon

PARAM_PREFIX = "freelancer_mass_mail."
COMPLETE_ALIYUN = {
    "fan_sms_provider": "aliyun",
    "fan_sms_key_id": "LTAI5tFakeKeyId",
    "fan_sms_key_secret": "fake-secret",
    "fan_sms_sign_name": "手作小院",
    "fan_sms_template_code": "SMS_123456789",
}


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanSmsSettings(FanMassMailCommon):
    """Saving the SMS settings and the SMS checklist, in Chinese as the tested admin uses."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, lang="zh_CN"))

    def _save(self, **values):
        settings = self.env["res.config.settings"].create(values)
        settings.execute()
        return settings

    def _param(self, key):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)

    def _sms_mailing(self):
        return self._create_fan_mailing(
            mailing_type="sms", body_plaintext="周六开课", fan_sms_signature="手作小院"
        )

    def _sms_errors(self, mailing):
        return [c for c in mailing._fan_get_checklist() if c["level"] == "error"]

    def test_parse_window_time(self):
        self.assertEqual(str(parse_window_time("08:00")), "08:00:00")
        self.assertEqual(str(parse_window_time(" 8:30 ")), "08:30:00")
        self.assertEqual(str(parse_window_time("23:59")), "23:59:00")
        for value in ("25:99", "24:00", "12:60", "8", "08:00:00", "abc", "", None, "０８:００"):
            with self.subTest(value=value):
                self.assertIsNone(parse_window_time(value))

    def test_invalid_window_rejected_at_save(self):
        stored_before = [self._param(key) for key in ("sms_window_tz", "sms_window_start")]
        cases = [
            ({"fan_sms_window_tz": "Mars/Base"}, "“Mars/Base”"),
            ({"fan_sms_window_start": "25:99"}, "“25:99”"),
            ({"fan_sms_window_end": "20:60"}, "“20:60”"),
            ({"fan_sms_window_start": "21:00", "fan_sms_window_end": "20:00"}, "21:00"),
            ({"fan_sms_daily_cap": -1}, "“-1”"),
        ]
        for values, quoted in cases:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError) as caught:
                    self._save(**values)
                message = str(caught.exception)
                self.assertIn(quoted, message)
                # The message is the Chinese translation, not the English source.
                self.assertNotIn("is not a valid time", message)
                self.assertNotIn("is unknown", message)
        stored_after = [self._param(key) for key in ("sms_window_tz", "sms_window_start")]
        self.assertEqual(stored_after, stored_before)

    def test_chinese_messages_at_save(self):
        with self.assertRaises(ValidationError) as caught:
            self._save(fan_sms_window_tz="Mars/Base", fan_sms_window_start="25:99")
        message = str(caught.exception)
        self.assertIn("时区", message)
        self.assertIn("00:00", message)

    def test_valid_window_saved(self):
        self._save(
            fan_sms_window_start="9:00",
            fan_sms_window_end="21:30",
            fan_sms_window_tz="Asia/Urumqi",
            fan_sms_daily_cap=0,
        )
        self.assertEqual(self._param("sms_window_start"), "9:00")
        self.assertEqual(self._param("sms_window_tz"), "Asia/Urumqi")
        self.assertEqual(self._param("sms_daily_cap"), "0")
        self.assertEqual(self.env["mailing.mailing"]._fan_param("sms_daily_cap"), 0)
        self.assertFalse(self._sms_errors(self._sms_mailing()))

    def test_empty_window_uses_defaults(self):
        self._save(fan_sms_window_start=False, fan_sms_window_end=False, fan_sms_window_tz=False)
        self.assertEqual(
            self.env["mailing.mailing"]._fan_sms_window(), ("08:00", "20:00", "Asia/Shanghai")
        )

    def test_stored_bad_values_block_sending(self):
        cases = [
            ("sms_window_tz", "Mars/Base"),
            ("sms_window_start", "25:99"),
            ("sms_daily_cap", "-1"),
            ("sms_daily_cap", "three"),
        ]
        for key, value in cases:
            with self.subTest(key=key, value=value):
                self.env["ir.config_parameter"].sudo().set_param(PARAM_PREFIX + key, value)
                mailing = self._sms_mailing()
                codes = [c["code"] for c in self._sms_errors(mailing)]
                self.assertEqual(codes, ["sms_settings"])
                with freeze_time(IN_WINDOW), self.assertRaises(UserError) as caught:
                    mailing.action_send_mail()
                self.assertIn(f"“{value}”", str(caught.exception))
                with freeze_time(IN_WINDOW), self.assertRaises(UserError) as caught:
                    mailing.action_send_sms()
                self.assertIn(f"“{value}”", str(caught.exception))
                self.assertFalse(self.env["sms.sms"].search([("mailing_id", "=", mailing.id)]))
                self.env["ir.config_parameter"].sudo().set_param(PARAM_PREFIX + key, False)

    def test_incomplete_gateway_rejected_at_save(self):
        for provider in ("aliyun", "tencent"):
            for missing in (
                "fan_sms_key_id",
                "fan_sms_key_secret",
                "fan_sms_sign_name",
                "fan_sms_template_code",
            ):
                with self.subTest(provider=provider, missing=missing):
                    values = dict(COMPLETE_ALIYUN, fan_sms_provider=provider)
                    values["fan_sms_app_id"] = "1400000001"
                    values[missing] = False
                    with self.assertRaises(ValidationError) as caught:
                        self._save(**values)
                    label = self.env["res.company"]._fields[missing]._description_string(self.env)
                    self.assertIn(label, str(caught.exception))
        values = dict(COMPLETE_ALIYUN, fan_sms_provider="tencent", fan_sms_app_id="  ")
        with self.assertRaises(ValidationError) as caught:
            self._save(**values)
        self.assertIn("腾讯云", str(caught.exception))

    def test_complete_gateway_saved(self):
        self._save(**COMPLETE_ALIYUN)
        self.assertEqual(self.env.company.fan_sms_provider, "aliyun")
        self._save(fan_sms_provider="odoo", fan_sms_key_id=False)
        self.assertEqual(self.env.company.fan_sms_provider, "odoo")

    def test_incomplete_gateway_blocks_checklist(self):
        self.env.company.write(dict(COMPLETE_ALIYUN, fan_sms_key_secret=False))
        mailing = self._sms_mailing()
        errors = self._sms_errors(mailing)
        self.assertEqual([c["code"] for c in errors], ["sms_gateway_config"])
        self.assertIn("阿里云", errors[0]["message"])
        with self.assertRaises(UserError):
            mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "draft")
        self.env.company.fan_sms_key_secret = "fake-secret"
        self.assertFalse(self._sms_errors(self._sms_mailing()))


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanSmsBadStoredSettings(FanSmsProviderCommon):
    """The SMS queue with invalid settings stored behind the settings form."""

    def test_queue_keeps_mailing_sms(self):
        sms = self._queue_mailing_sms()
        self.env["ir.config_parameter"].sudo().set_param(
            PARAM_PREFIX + "sms_window_tz", "Mars/Base"
        )
        with self.assertLogs("odoo.addons.freelancer_mass_mail.models.sms_sms", "ERROR") as logs:
            self._send_at(sms, now=datetime(2025, 5, 1, 2))
        self.assertIn("Mars/Base", "\n".join(logs.output))
        self.assertEqual(sms.state, "outgoing")
        self.assertFalse(self.server.received)
        self.env["ir.config_parameter"].sudo().set_param(PARAM_PREFIX + "sms_window_tz", False)
        self._send_at(sms)
        self.assertEqual(sms.state, "pending")
