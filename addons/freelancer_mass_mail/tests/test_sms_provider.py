from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..tools import is_opt_out_reply
from ..tools.sms_provider_aliyun import SmsApiAliyun
from ..tools.sms_provider_common import split_signature
from .sms_common import IN_WINDOW, KEY_SECRET, OUT_OF_WINDOW, FanSmsProviderCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsReplyWords(FanSmsProviderCommon):
    def test_opt_out_words(self):
        for text in ("T", "t", "Ｔ", " td ", "TD", "R", "r。", "N", "ｎ"):
            self.assertTrue(is_opt_out_reply(text), text)
        for text in ("", "TT", "好的", "R 谢谢", "T退订了吗", None):
            self.assertFalse(is_opt_out_reply(text), text)

    def test_split_signature(self):
        self.assertEqual(split_signature("【手作小院】周六开课", "其他"), ("手作小院", "周六开课"))
        self.assertEqual(split_signature("周六开课", "手作小院"), ("手作小院", "周六开课"))

    def test_provider_class_per_company(self):
        self.assertIs(self.env.company._get_sms_api_class(), SmsApiAliyun)

    def test_secrets_hidden_from_marketing_user(self):
        company = self.env.company.with_user(self.user_marketing)
        for field_name in ("fan_sms_key_id", "fan_sms_key_secret", "fan_sms_callback_token"):
            with self.assertRaises(AccessError):
                company.read([field_name])


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsProviderAliyun(FanSmsProviderCommon):
    provider = "aliyun"

    def test_send_signed_request(self):
        sms = self._queue_mailing_sms()
        self.assertEqual(len(sms), 1)
        with self.assertLogs("odoo.addons.freelancer_mass_mail") as logs:
            self._send_at(sms)
        self.assertEqual(self.server.rejected, [])
        self.assertEqual(len(self.server.received), 1)
        received = self.server.received[0]
        self.assertEqual(received["number"], "13800138001")
        self.assertEqual(received["sign_name"], "手作小院")
        self.assertEqual(received["text"], "周六开课 拒收请回复R")
        self.assertEqual(received["out_id"], sms.uuid)
        self.assertEqual(sms.state, "pending")
        self.assertEqual(sms.fan_sms_attempt_state, "accepted")
        self.assertTrue(sms.fan_sms_provider_ref)
        self.assertEqual(sms.sms_tracker_id.fan_sms_provider_ref, sms.fan_sms_provider_ref)
        self.assertEqual(sms.sms_tracker_id.mailing_trace_id.trace_status, "pending")
        output = "\n".join(logs.output)
        self.assertNotIn("13800138001", output)
        self.assertNotIn(KEY_SECRET, output)

    def test_sent_sms_not_sent_twice(self):
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        # A retry that lost the result puts the SMS back in the queue.
        sms.write({"state": "outgoing", "to_delete": False})
        self._send_at(sms)
        self.assertEqual(len(self.server.received), 1)
        self.assertEqual(sms.state, "pending")

    def test_business_error_can_be_resent(self):
        sms = self._queue_mailing_sms()
        self.server.mode = "error"
        self._send_at(sms)
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "sms_server")
        self.assertEqual(sms.fan_sms_attempt_state, "rejected")
        self.assertIn(
            "isv.BUSINESS_LIMIT_CONTROL", sms.sms_tracker_id.mailing_trace_id.failure_reason
        )
        self.server.mode = "ok"
        with freeze_time(IN_WINDOW):
            notification = sms.resend_failed()
        self.assertEqual(notification["params"]["type"], "success")
        self.assertEqual(sms.state, "outgoing", "the SMS queue cron sends it")
        self.assertEqual(self.server.received, [])
        self._run_sms_queue()
        self.assertEqual(len(self.server.received), 1)
        self.assertEqual(sms.state, "pending")

    def test_wrong_secret_rejected(self):
        self.env.company.fan_sms_key_secret = "wrong"
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        self.assertEqual(self.server.rejected, ["SignatureDoesNotMatch"])
        self.assertEqual(sms.failure_type, "sms_acc")

    def test_invalid_number(self):
        self.server.fail_numbers = {"13800138001"}
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        self.assertEqual(sms.failure_type, "sms_number_format")

    def test_timeout_not_resent(self):
        sms = self._queue_mailing_sms()
        self.server.mode = "timeout"
        self.server.delay = 10.5  # tests raise any request timeout under 10 s to 10 s
        with patch.object(SmsApiAliyun, "TIMEOUT", 0.3):
            self._send_at(sms)
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "fan_sms_outcome_unknown")
        self.assertEqual(sms.fan_sms_attempt_state, "unknown")
        self.assertEqual(
            sms.sms_tracker_id.mailing_trace_id.failure_type, "fan_sms_outcome_unknown"
        )
        self.server.mode = "ok"
        with freeze_time(IN_WINDOW):
            notification = sms.resend_failed()
        self.assertEqual(notification["params"]["type"], "warning")
        self._run_sms_queue()
        self.assertEqual(len(self.server.received), 1, "the server got the first request only")
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.fan_sms_attempt_state, "unknown")

    def test_outside_window_stays_queued(self):
        sms = self._queue_mailing_sms()
        transactional = self.env["sms.sms"].create(
            {"number": "+8613800138009", "body": "验证码 1234"}
        )
        self._send_at(sms | transactional, now=OUT_OF_WINDOW)
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(transactional.state, "pending")
        self.assertEqual([r["number"] for r in self.server.received], ["13800138009"])
        self._send_at(sms, now=IN_WINDOW)
        self.assertEqual(sms.state, "pending")

    def test_daily_cap_postpones_to_next_window(self):
        self.env["ir.config_parameter"].set_param("freelancer_mass_mail.sms_daily_cap", 2)
        first = self._queue_mailing_sms("第一条")
        second = self._queue_mailing_sms("第二条")
        third = self._queue_mailing_sms("第三条")
        self._send_at(first | second | third)
        self.assertEqual((first | second).mapped("state"), ["pending", "pending"])
        self.assertEqual(third.state, "outgoing")
        self.assertFalse(third.failure_type)
        # 2025-05-02 00:00 UTC is 08:00 in Shanghai, when the next window opens.
        next_window = datetime(2025, 5, 2, 0)
        self.assertEqual(third.fan_sms_send_after, next_window)
        self.assertEqual(third.sms_tracker_id.mailing_trace_id.trace_status, "outgoing")
        trigger = self.env["ir.cron.trigger"].search(
            [
                ("cron_id", "=", self.env.ref("sms.ir_cron_sms_scheduler_action").id),
                ("call_at", "=", next_window),
            ]
        )
        self.assertEqual(len(trigger), 1)
        self.assertEqual(len(self.server.received), 2)

        # Later the same day the queue leaves it alone.
        self._run_sms_queue(datetime(2025, 5, 1, 6))
        self.assertEqual(third.state, "outgoing")
        self.assertEqual(len(self.server.received), 2)

        self._run_sms_queue(datetime(2025, 5, 2, 0, 5))
        self.assertEqual(third.state, "pending")
        self.assertEqual(third.sms_tracker_id.mailing_trace_id.trace_status, "pending")
        self.assertEqual(
            [r["text"] for r in self.server.received],
            ["第一条 拒收请回复R", "第二条 拒收请回复R", "第三条 拒收请回复R"],
        )


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsProviderTencent(FanSmsProviderCommon):
    provider = "tencent"

    def test_send_signed_request(self):
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        self.assertEqual(self.server.rejected, [])
        self.assertEqual(len(self.server.received), 1)
        received = self.server.received[0]
        self.assertEqual(received["number"], "+8613800138001")
        self.assertEqual(received["text"], "周六开课 拒收请回复R")
        self.assertEqual(received["sign_name"], "手作小院")
        self.assertEqual(sms.state, "pending")
        self.assertTrue(sms.sms_tracker_id.fan_sms_provider_ref.startswith("2433:"))
        self.assertEqual(sms.sms_tracker_id.fan_sms_provider, "tencent")

    def test_number_error_and_balance_error(self):
        self.server.fail_numbers = {"+8613800138001"}
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        self.assertEqual(sms.failure_type, "sms_number_format")
        self.server.fail_numbers = set()
        self.server.mode = "error"
        other = self._queue_mailing_sms("另一条")
        self._send_at(other)
        self.assertEqual(other.failure_type, "sms_credit")

    def test_wrong_secret_rejected(self):
        self.env.company.fan_sms_key_secret = "wrong"
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        self.assertEqual(self.server.rejected, ["AuthFailure.SignatureFailure"])
        self.assertEqual(sms.failure_type, "sms_acc")
