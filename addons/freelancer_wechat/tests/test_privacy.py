import base64
import json

from odoo.tests import tagged

from .common import WechatCallbackCase


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestWechatPrivacy(WechatCallbackCase):
    def setUp(self):
        super().setUp()
        self.openid = "oPrivacyFan00000000000000001"
        self.post_plain(self.event_xml(self.openid, "subscribe", event_key="qrscene_展会"))
        self.post_plain(self.text_xml(self.openid, "我的手机是13800138000"))
        self.fan = self.fan_of(self.openid)
        self.messages = self.env["wechat.message"].search([("openid", "=", self.openid)])

    def test_export_lists_wechat_messages(self):
        action = self.fan.action_fan_export_data()

        attachment_id = int(action["url"].split("/")[3].split("?")[0])
        attachment = self.env["ir.attachment"].browse(attachment_id)
        data = json.loads(base64.b64decode(attachment.datas))[0]
        contents = [message["content"] for message in data["wechat_messages"]]
        self.assertIn("我的手机是13800138000", contents)
        self.assertIn("subscribe_scan", [message["event"] for message in data["wechat_messages"]])
        self.assertEqual(
            {message["account"] for message in data["wechat_messages"]}, {self.account.name}
        )

    def test_erase_clears_wechat_messages(self):
        self.assertGreaterEqual(len(self.messages), 3, "follow, message and replies")
        # A message logged before the fan was linked is found by the OpenID.
        self.messages[:1].partner_id = False

        self.fan.action_fan_erase()

        self.assertFalse(self.env["wechat.message"].search([("openid", "=", self.openid)]))
        for message in self.messages:
            with self.subTest(message=message.id):
                self.assertFalse(message.content)
                self.assertFalse(message.raw_xml)
                self.assertFalse(message.openid)
                self.assertFalse(message.event_key)
                self.assertFalse(message.dedup_key)
                self.assertTrue(message.msg_type, "the type and date stay for statistics")
