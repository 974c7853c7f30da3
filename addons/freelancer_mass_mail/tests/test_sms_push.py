import json

from odoo.tests import HttpCase, tagged

from .sms_common import FanSmsProviderCommon

FAN_NUMBER = "+8613800138001"


class FanSmsPushCommon(FanSmsProviderCommon, HttpCase):
    def _push(self, kind, payload, token=None):
        token = token or self.env.company.fan_sms_callback_token
        return self.url_open(
            f"/freelancer_mass_mail/sms/{self.provider}/{kind}/{token}",
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
        )

    def _sent_sms_trace(self):
        sms = self._queue_mailing_sms()
        self._send_at(sms)
        self.assertEqual(sms.state, "pending")
        return sms, sms.sms_tracker_id.mailing_trace_id

    def _sms_withdrawals(self, partner, source):
        return self.env["fan.consent"].search(
            [
                ("partner_id", "=", partner.id),
                ("channel", "=", "sms"),
                ("action", "=", "withdraw"),
                ("source", "=", source),
            ]
        )


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsPushAliyun(FanSmsPushCommon):
    provider = "aliyun"

    def _report(self, sms, success):
        return [
            {
                "phone_number": "13800138001",
                "send_time": "2025-05-01 10:00:01",
                "report_time": "2025-05-01 10:00:05",
                "success": success,
                "err_code": "DELIVERED" if success else "MK:0001",
                "err_msg": "用户接收成功" if success else "号码停机",
                "sms_size": "1",
                "biz_id": sms.fan_sms_provider_ref,
                "out_id": sms.uuid,
            }
        ]

    def test_report_delivered(self):
        sms, trace = self._sent_sms_trace()
        response = self._push("report", self._report(sms, True))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"code": 0, "msg": "成功"})
        self.assertEqual(trace.trace_status, "sent")

    def test_report_failed(self):
        sms, trace = self._sent_sms_trace()
        self._push("report", self._report(sms, False))
        self.assertEqual(trace.trace_status, "error")
        self.assertEqual(trace.failure_type, "sms_not_delivered")
        self.assertIn("MK:0001", trace.failure_reason)

    def test_wrong_token_rejected(self):
        sms, trace = self._sent_sms_trace()
        response = self._push("report", self._report(sms, True), token="not-the-token")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(trace.trace_status, "pending")

    def test_invalid_json_rejected(self):
        token = self.env.company.fan_sms_callback_token
        response = self.url_open(
            f"/freelancer_mass_mail/sms/aliyun/report/{token}", data=b"{not json"
        )
        self.assertEqual(response.status_code, 400)

    def test_reply_opt_out(self):
        queued = self._queue_mailing_sms()
        self.assertEqual(queued.state, "outgoing")
        response = self._push(
            "reply",
            [
                {
                    "phone_number": "13800138001",
                    "send_time": "2025-05-01 10:00:01",
                    "content": " ｔｄ ",
                    "sign_name": "手作小院",
                    "dest_code": "1234",
                    "sequence_id": 1234567890,
                }
            ],
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.fan_granted.consent_sms, "withdrawn")
        entry = self._sms_withdrawals(self.fan_granted, "sms_reply")
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.address, FAN_NUMBER)
        self.assertTrue(self.env["phone.blacklist"].search([("number", "=", FAN_NUMBER)]))
        self.assertEqual(queued.state, "canceled")

    def test_reply_text_logged(self):
        self._push("reply", [{"phone_number": "13800138001", "content": "周六几点开始?"}])
        self.assertEqual(self.fan_granted.consent_sms, "granted")
        interaction = self.env["fan.interaction"].search(
            [
                ("partner_id", "=", self.fan_granted.id),
                ("interaction_type", "=", "sms_reply"),
            ]
        )
        self.assertEqual(interaction.name, "周六几点开始?")
        self.assertFalse(self.env["phone.blacklist"].search([("number", "=", FAN_NUMBER)]))

    def test_stock_opt_out_page_records_withdrawal(self):
        _sms, trace = self._sent_sms_trace()
        response = self.url_open(
            f"/sms/{trace.mass_mailing_id.id}/unsubscribe/{trace.sms_code}?sms_number=%2B8613800138001"
        )
        self.assertEqual(response.status_code, 200)
        entry = self._sms_withdrawals(self.fan_granted, "unsubscribe_link")
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.res_id, trace.mass_mailing_id.id)
        self.assertEqual(self.fan_granted.consent_sms, "withdrawn")


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsPushTencent(FanSmsPushCommon):
    provider = "tencent"

    def test_report_delivered(self):
        sms, trace = self._sent_sms_trace()
        response = self._push(
            "report",
            [
                {
                    "user_receive_time": "2025-05-01 10:00:05",
                    "nationcode": "86",
                    "mobile": "13800138001",
                    "report_status": "SUCCESS",
                    "errmsg": "DELIVRD",
                    "description": "用户短信送达成功",
                    "sid": sms.sms_tracker_id.fan_sms_provider_ref,
                }
            ],
        )
        self.assertEqual(response.json(), {"result": 0, "errmsg": "OK"})
        self.assertEqual(trace.trace_status, "sent")

    def test_reply_opt_out(self):
        self._push(
            "reply",
            {
                "extend": "",
                "mobile": "13800138001",
                "nationcode": "86",
                "sign": "手作小院",
                "text": "R",
                "time": 1746064800,
            },
        )
        self.assertEqual(self.fan_granted.consent_sms, "withdrawn")
        self.assertEqual(len(self._sms_withdrawals(self.fan_granted, "sms_reply")), 1)
