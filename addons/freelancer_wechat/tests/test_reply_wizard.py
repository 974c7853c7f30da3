from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from .common import WechatApiCase

OPENID = "oReplyFan000000000000000001"


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestReplyWizard(WechatApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fan = cls.env["res.partner"]._wechat_find_or_create_fan(cls.api_account, OPENID)
        cls.manager = new_test_user(
            cls.env,
            login="wechat_reply_manager",
            groups="freelancer_crm.group_fan_manager",
            lang="en_US",
        )

    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.custom_messages.clear()

    def incoming(self, hours_ago, **extra):
        return self.env["wechat.message"].create(
            dict(
                {
                    "account_id": self.api_account.id,
                    "partner_id": self.fan.id,
                    "openid": OPENID,
                    "direction": "in",
                    "msg_type": "text",
                    "content": "hello",
                    "create_time": fields.Datetime.now() - timedelta(hours=hours_ago),
                },
                **extra,
            )
        )

    def open_wizard(self, message):
        action = message.with_user(self.manager).action_reply()
        return Form(
            self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"])
        )

    def test_reply_sent_and_logged(self):
        message = self.incoming(hours_ago=47)
        wizard_form = self.open_wizard(message)
        wizard_form.content = "Class starts at 7pm"
        wizard_form.save().action_send()

        self.assertEqual(len(self.fake_api.custom_messages), 1)
        sent = self.fake_api.custom_messages[0]
        self.assertEqual(sent["touser"], OPENID)
        self.assertEqual(sent["text"]["content"], "Class starts at 7pm")
        reply = self.env["wechat.message"].search(
            [("openid", "=", OPENID), ("direction", "=", "out")]
        )
        self.assertEqual(len(reply), 1)
        self.assertTrue(reply.is_customer_service)
        self.assertEqual(reply.partner_id, self.fan)
        self.assertEqual(reply.user_id, self.manager)

    def test_blank_reply_rejected(self):
        message = self.incoming(hours_ago=1)
        wizard_form = self.open_wizard(message)
        wizard_form.content = "   "
        wizard = wizard_form.save()
        with self.assertRaises(UserError) as catcher:
            wizard.action_send()
        self.assertIn("Write the reply", str(catcher.exception))
        self.assertFalse(self.fake_api.custom_messages)

    def test_reply_outside_48_hours(self):
        message = self.incoming(hours_ago=49)
        wizard_form = self.open_wizard(message)
        wizard_form.content = "Too late"
        wizard = wizard_form.save()
        with self.assertRaises(UserError) as catcher:
            wizard.action_send()
        self.assertIn("within 48 hours", str(catcher.exception))
        self.assertFalse(self.fake_api.custom_messages)

    def test_unsubscribe_does_not_open_window(self):
        self.incoming(hours_ago=60)
        message = self.incoming(hours_ago=1, msg_type="event", event="unsubscribe")
        wizard_form = self.open_wizard(message)
        wizard_form.content = "Bye"
        with self.assertRaises(UserError):
            wizard_form.save().action_send()

    def test_at_most_five_replies(self):
        message = self.incoming(hours_ago=2)
        for index in range(5):
            wizard_form = self.open_wizard(message)
            wizard_form.content = f"reply {index}"
            wizard_form.save().action_send()
        wizard_form = self.open_wizard(message)
        wizard_form.content = "one too many"
        with self.assertRaises(UserError) as catcher:
            wizard_form.save().action_send()
        self.assertIn("maximum", str(catcher.exception))
        self.assertEqual(len(self.fake_api.custom_messages), 5)

    def test_reply_from_fan(self):
        self.incoming(hours_ago=3)
        action = self.fan.with_user(self.manager).action_wechat_reply()
        self.assertEqual(action["res_model"], "wechat.reply.wizard")
        self.assertEqual(action["context"]["default_openid"], OPENID)

    def test_reply_from_fan_without_messages(self):
        other = self.env["res.partner"].create({"name": "Never wrote", "is_fan": True})
        with self.assertRaises(UserError):
            other.with_user(self.manager).action_wechat_reply()
