from contextlib import ExitStack
from datetime import datetime

from freezegun import freeze_time

from .common import FanMassMailCommon
from .fake_sms_servers import FakeAliyunSms, FakeTencentSms

# 02:00 UTC is 10:00 in Shanghai, inside the default 08:00-20:00 window;
# 13:00 UTC is 21:00, outside it.
IN_WINDOW = datetime(2025, 5, 1, 2)
OUT_OF_WINDOW = datetime(2025, 5, 1, 13)
KEY_ID = "LTAI5tFakeKeyId"
KEY_SECRET = "fake-secret-never-logged"


class FanSmsProviderCommon(FanMassMailCommon):
    """Company set to send through a fake provider server on 127.0.0.1."""

    provider = "aliyun"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server_class = FakeAliyunSms if cls.provider == "aliyun" else FakeTencentSms
        cls.server = server_class(KEY_ID, KEY_SECRET).start()
        cls.addClassCleanup(cls.server.stop)
        cls.env.company.write(
            {
                "fan_sms_provider": cls.provider,
                "fan_sms_key_id": KEY_ID,
                "fan_sms_key_secret": KEY_SECRET,
                "fan_sms_sign_name": "手作小院",
                "fan_sms_template_code": "SMS_123456789" if cls.provider == "aliyun" else "1234567",
                "fan_sms_app_id": "1400000001",
                "fan_sms_endpoint": cls.server.url,
            }
        )

    def setUp(self):
        super().setUp()
        self.server.mode = "ok"
        self.server.fail_numbers = set()
        self.server.received.clear()
        self.server.rejected.clear()
        self.server.queries.clear()
        self.server.report_status = {}

    def _queue_mailing_sms(self, body="周六开课"):
        """Queue the SMS of a new fan SMS mailing (inside the window) and return them."""
        mailing = self._create_fan_mailing(
            mailing_type="sms", body_plaintext=body, fan_sms_signature="手作小院"
        )
        with freeze_time(IN_WINDOW):
            mailing.action_send_sms()
        return self.env["sms.sms"].search([("mailing_id", "=", mailing.id)])

    def _send_at(self, sms, now=IN_WINDOW):
        """Send ``sms`` as a user would at ``now``, then run the SMS queue cron.

        With Aliyun and Tencent Cloud, ``send()`` leaves the SMS to the queue
        cron, which commits each SMS as Request Sent before its request.
        """
        with freeze_time(now):
            sms.send(unlink_sent=False)
        self._run_sms_queue(now)

    def _run_sms_queue(self, now=IN_WINDOW):
        """Run the SMS queue cron at ``now`` as the scheduler does, in its own cursor.

        Its commits only release savepoints of the test transaction, which
        the test still rolls back at its end.
        """
        self._run_cron("sms.ir_cron_sms_scheduler_action", now)

    def _run_cron(self, xmlid, now):
        with ExitStack() as stack:
            stack.enter_context(freeze_time(now))
            if not type(self)._registry_patched:
                stack.enter_context(self.enter_registry_test_mode())
            self.env.ref(xmlid).sudo().method_direct_trigger()
        # The cron ran in its own environment, so reread what it wrote.
        self.env.invalidate_all()
