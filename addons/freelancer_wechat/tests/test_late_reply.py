import time
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.freelancer_wechat.controllers import main as callback

from .common import WechatCallbackCase
from .fake_wechat_api import FakeWechatApi


@tagged("post_install", "-at_install")
class TestLateReply(WechatCallbackCase):
    """A reply that would miss WeChat's 5 seconds goes out through the customer-service API."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake_api = FakeWechatApi(app_id=cls.account.app_id, secret="late-secret")
        cls.fake_api.start()
        cls.addClassCleanup(cls.fake_api.stop)
        cls.account.write({"app_secret": "late-secret", "api_base_url": cls.fake_api.base_url})

    def post_late(self, content, openid="oLateFan0001"):
        with patch.object(callback, "REPLY_BUDGET_SECONDS", -1):
            return self.post_plain(self.text_xml(openid, content))

    def _reply_of(self, openid):
        return self.env["wechat.message"].search(
            [("openid", "=", openid), ("direction", "=", "out")], order="id desc", limit=1
        )

    def test_slow_reply_answers_success_and_queues(self):
        self.fake_api.custom_messages.clear()
        response = self.post_late("什么时候开课?")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "success")
        reply = self._reply_of("oLateFan0001")
        self.assertEqual(reply.content, "We got your message")
        self.assertEqual(reply.delivery_state, "queued")
        self.assertTrue(reply.is_customer_service)

        self.env["wechat.message"]._cron_send_late_replies()
        self.assertEqual(reply.delivery_state, "sent")
        self.assertEqual(len(self.fake_api.custom_messages), 1)
        sent = self.fake_api.custom_messages[0]
        self.assertEqual(sent["touser"], "oLateFan0001")
        self.assertEqual(sent["text"]["content"], "We got your message")

        self.env["wechat.message"]._cron_send_late_replies()
        self.assertEqual(len(self.fake_api.custom_messages), 1, "a late reply is sent once")

    def test_failed_late_reply_is_kept_with_error(self):
        self.post_late("在吗", openid="oLateFan0002")
        reply = self._reply_of("oLateFan0002")
        self.fake_api.fail("/cgi-bin/message/custom/send", 45015)
        self.env["wechat.message"]._cron_send_late_replies()
        self.assertEqual(reply.delivery_state, "failed")
        self.assertIn("45015", reply.delivery_error)

    def test_fast_reply_stays_passive(self):
        response = self.post_plain(self.text_xml("oLateFan0003", "你好"))
        self.assertIn("We got your message", response.text)
        self.assertFalse(self._reply_of("oLateFan0003").delivery_state)

    def test_wait_behind_proxy_counts(self):
        # nginx's t=${msec} in seconds, Apache's t=%t in microseconds.
        waited = time.time() - 4.5
        stamps = [f"t={waited:.3f}", f"t={int(waited * 1e6)}"]
        with patch.dict(config.options, {"proxy_mode": True}):
            for index, stamp in enumerate(stamps):
                with self.subTest(stamp=stamp):
                    openid = f"oLateProxy{index:04d}"
                    response = self.post_plain(
                        self.text_xml(openid, "你好"), headers={"X-Request-Start": stamp}
                    )
                    self.assertEqual(response.text, "success")
                    self.assertEqual(self._reply_of(openid).delivery_state, "queued")

    def test_proxy_stamp_ignored_when_untrusted(self):
        waited = f"t={time.time() - 4.5:.3f}"
        future = f"t={time.time() + 30:.3f}"
        cases = [(False, waited), (True, future), (True, "t=soon")]
        for index, (proxy_mode, stamp) in enumerate(cases):
            with (
                self.subTest(proxy_mode=proxy_mode, stamp=stamp),
                patch.dict(config.options, {"proxy_mode": proxy_mode}),
            ):
                openid = f"oLateStamp{index:04d}"
                response = self.post_plain(
                    self.text_xml(openid, "你好"), headers={"X-Request-Start": stamp}
                )
                self.assertIn("We got your message", response.text)
                self.assertFalse(self._reply_of(openid).delivery_state)
