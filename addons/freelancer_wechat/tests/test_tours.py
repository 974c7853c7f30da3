import unittest

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestWechatTours(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Tours read English labels, and the test database may have been created
        # with Chinese as the admin's language.
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env.ref("base.user_admin").write({"lang": "en_US"})
        cls.rules_account = cls.env["wechat.account"].create(
            {
                "name": "Tour Rules Account",
                "app_id": "wxtour0000rules01",
                "api_base_url": "http://127.0.0.1:9/",
            }
        )

    def run_tour(self, name):
        # Odoo skips a tour when Chromium or websocket-client is missing; here a
        # skipped tour is a failure, so a broken browser setup cannot pass silently.
        try:
            self.start_tour("/odoo", name, login="admin")
        except unittest.SkipTest as error:
            self.fail(f"tour {name} could not run: {error}")

    def test_account_form_tour(self):
        self.run_tour("freelancer_wechat_account")
        account = self.env["wechat.account"].search([("app_id", "=", "wxtour0000000001")])
        self.assertEqual(account.name, "Tour Notes")

    def test_reply_rule_tour(self):
        self.run_tour("freelancer_wechat_reply_rule")
        rule = self.env["wechat.reply.rule"].search([("keyword", "=", "课程表")])
        self.assertEqual(rule.account_id, self.rules_account)
        self.assertEqual(rule.reply_text, "Classes run on Tuesdays.")

    def test_reply_image_tour(self):
        Material = self.env["wechat.material"]
        image = Material.create(
            {"account_id": self.rules_account.id, "name": "poster.jpg", "media_type": "image"}
        )
        voice = Material.create(
            {"account_id": self.rules_account.id, "name": "poster.mp3", "media_type": "voice"}
        )
        # As if uploaded: only materials on WeChat can be sent.
        image.media_id = "MEDIATOURIMAGE01"
        voice.media_id = "MEDIATOURVOICE01"

        self.run_tour("freelancer_wechat_reply_image")
        rule = self.env["wechat.reply.rule"].search([("keyword", "=", "海报")])
        self.assertEqual(rule.reply_type, "image")
        self.assertEqual(rule.material_id, image)
        self.assertFalse(rule.reply_text)

    def test_message_log_tour(self):
        Message = self.env["wechat.message"]
        now = fields.Datetime.now()
        Message.create(
            [
                {
                    "account_id": self.rules_account.id,
                    "openid": "oTourFan",
                    "direction": "in",
                    "msg_type": "text",
                    "content": "Tour question text",
                    "create_time": now,
                },
                {
                    "account_id": self.rules_account.id,
                    "openid": "oTourFan",
                    "direction": "out",
                    "msg_type": "text",
                    "content": "Tour reply text",
                    "create_time": now,
                },
            ]
        )
        self.run_tour("freelancer_wechat_message_log")
