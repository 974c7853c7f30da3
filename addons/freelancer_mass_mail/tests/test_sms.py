from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from ..tools import compose_fan_sms, in_sending_window, next_window_start, sms_part_count
from .common import FanMassMailCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanSms(FanMassMailCommon):
    def test_compose_adds_signature_and_refusal(self):
        text = compose_fan_sms("周六开课", "手作小院", "拒收请回复R")
        self.assertEqual(text, "【手作小院】周六开课 拒收请回复R")
        self.assertEqual(
            compose_fan_sms("【手作小院】周六开课 拒收请回复R", "【手作小院】", "拒收请回复R"),
            "【手作小院】周六开课 拒收请回复R",
        )

    def test_part_count(self):
        self.assertEqual(sms_part_count(""), 0)
        self.assertEqual(sms_part_count("字" * 70), 1)
        self.assertEqual(sms_part_count("字" * 71), 2)
        self.assertEqual(sms_part_count("字" * 134), 2)
        self.assertEqual(sms_part_count("字" * 135), 3)

    def test_mailing_preview_counts_signature(self):
        body = "字" * 60
        mailing = self._create_fan_mailing(
            mailing_type="sms", body_plaintext=body, fan_sms_signature="手作小院"
        )
        self.assertEqual(mailing.fan_sms_refusal_text, "拒收请回复R")
        self.assertEqual(mailing.fan_sms_preview, f"【手作小院】{body} 拒收请回复R")
        self.assertEqual(mailing.fan_sms_length, 6 + 60 + 1 + 6)
        self.assertEqual(mailing.fan_sms_part_count, 2)
        warnings = {c["code"] for c in mailing._fan_get_checklist() if c["level"] == "warning"}
        self.assertEqual(warnings, {"sms_parts"})

    def test_window(self):
        # 02:00 UTC is 10:00 in Shanghai, and 13:00 UTC is 21:00.
        window = ("08:00", "20:00", "Asia/Shanghai")
        self.assertTrue(in_sending_window(datetime(2025, 5, 1, 2), *window))
        self.assertFalse(in_sending_window(datetime(2025, 5, 1, 13), *window))
        self.assertEqual(
            next_window_start(datetime(2025, 5, 1, 13), "08:00", "20:00", "Asia/Shanghai"),
            datetime(2025, 5, 2, 0),
        )
        self.assertEqual(
            next_window_start(datetime(2025, 4, 30, 22), "08:00", "20:00", "Asia/Shanghai"),
            datetime(2025, 5, 1, 0),
        )

    def _send_sms_mailing_at(self, now):
        mailing = self._create_fan_mailing(
            mailing_type="sms", body_plaintext="周六开课", fan_sms_signature="手作小院"
        )
        with freeze_time(now):
            mailing.action_send_sms()
        return mailing

    def test_outside_window_holds_mailing(self):
        mailing = self._send_sms_mailing_at(datetime(2025, 5, 1, 13))
        self.assertEqual(mailing.state, "in_queue")
        self.assertEqual(mailing.schedule_date, datetime(2025, 5, 2, 0))
        self.assertFalse(self.env["sms.sms"].search([("mailing_id", "=", mailing.id)]))

    def test_inside_window_sends_composed_body(self):
        mailing = self._send_sms_mailing_at(datetime(2025, 5, 1, 2))
        sms = self.env["sms.sms"].search([("mailing_id", "=", mailing.id)])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.partner_id, self.fan_granted)
        self.assertTrue(sms.body.startswith("【手作小院】周六开课 拒收请回复R"))

    def test_sms_withdrawal_cancels_queued_sms(self):
        mailing = self._send_sms_mailing_at(datetime(2025, 5, 1, 2))
        sms = self.env["sms.sms"].search([("mailing_id", "=", mailing.id)])
        self.assertEqual(sms.state, "outgoing")
        self.fan_granted._fan_record_consent("sms", "withdraw", "sms_reply", address=sms.number)
        self.assertEqual(sms.state, "canceled")
        trace = mailing.mailing_trace_ids
        self.assertEqual(trace.trace_status, "cancel")
