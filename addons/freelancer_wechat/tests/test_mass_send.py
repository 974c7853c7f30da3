import time
from datetime import timedelta

from wechatpy import parse_message

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import WechatApiCase


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestMassSend(WechatApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.article = cls.env["wechat.article"].create(
            {
                "account_id": cls.api_account.id,
                "title": "Spring pottery class",
                "author": "Lin",
                "digest": "Four evenings of wheel throwing",
                "content": "<p>Join us <b>in April</b>.</p>",
                "thumb_media_id": "THUMB0001",
            }
        )

        Partner = cls.env["res.partner"]
        cls.followers = Partner
        cls.follower_openids = cls.fake_api.add_followers(3, prefix="oMassFan")
        for openid in cls.follower_openids:
            fan = Partner._wechat_find_or_create_fan(cls.api_account, openid)
            fan._fan_record_consent("wechat", "grant", "wechat_follow")
            cls.followers |= fan

    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.mass_sends.clear()
        self.fake_api.mass_statuses.clear()

    def new_send(self, **extra):
        return self.env["wechat.mass.send"].create(
            dict({"account_id": self.api_account.id, "article_id": self.article.id}, **extra)
        )

    def test_upload_and_publish(self):
        self.article.action_upload_draft()
        self.assertEqual(self.article.state, "uploaded")
        uploaded = self.fake_api.drafts[self.article.media_id][0]
        self.assertEqual(uploaded["title"], "Spring pottery class")
        self.assertEqual(uploaded["thumb_media_id"], "THUMB0001")
        self.assertIn("in April", uploaded["content"])

        self.article.action_publish()
        self.assertEqual(self.article.state, "published")
        self.assertTrue(self.article.publish_id)
        self.assertEqual(self.fake_api.calls["/cgi-bin/draft/add"], 1)

    def test_send_to_all_with_clientmsgid(self):
        send = self.new_send()
        send.action_send()
        self.assertEqual(send.state, "sent")
        body = self.fake_api.mass_sends[send.client_msg_id]
        self.assertTrue(body["filter"]["is_to_all"])
        self.assertEqual(body["mpnews"]["media_id"], self.article.media_id)
        self.assertTrue(send.msg_id)

    def test_retry_does_not_send_twice(self):
        send = self.new_send()
        send.action_send()
        first_msg_id = send.msg_id
        # A retry after a lost response: Odoo did not store the result.
        send.write({"state": "failed", "msg_id": False})
        send.action_send()
        self.assertEqual(len(self.fake_api.mass_sends), 1)
        self.assertEqual(send.msg_id, first_msg_id)
        self.assertEqual(send.state, "sent")

    def test_send_to_tag(self):
        tag = self.env["wechat.tag"].create(
            {"name": "Core", "account_id": self.api_account.id, "wechat_id": 150}
        )
        send = self.new_send(target="tag", tag_id=tag.id)
        send.action_send()
        body = self.fake_api.mass_sends[send.client_msg_id]
        self.assertEqual(body["filter"], {"is_to_all": False, "tag_id": 150})

    def test_subscription_one_per_day(self):
        self.api_account.account_type = "subscription"
        self.new_send().action_send()
        with self.assertRaises(UserError) as catcher:
            self.new_send().action_send()
        self.assertIn("one mass send a day", str(catcher.exception))
        self.assertEqual(len(self.fake_api.mass_sends), 1)

    def test_service_four_per_month_per_fan(self):
        self.api_account.account_type = "service"
        for _index in range(4):
            self.new_send().action_send()
        with self.assertRaises(UserError) as catcher:
            self.new_send().action_send()
        self.assertIn("at most 4", str(catcher.exception))
        self.assertEqual(len(self.fake_api.mass_sends), 4)

        # A new follower has had no send this month, so the fifth send goes out.
        newcomer = self.env["res.partner"]._wechat_find_or_create_fan(
            self.api_account, self.fake_api.add_followers(1, prefix="oMassNew")[0]
        )
        newcomer._fan_record_consent("wechat", "grant", "wechat_follow")
        send = self.new_send()
        send.action_send()
        self.assertEqual(send.state, "sent")
        self.assertEqual(send.partner_ids, self.followers | newcomer)

    def test_service_monthly_count_by_fan(self):
        self.api_account.account_type = "service"
        Send = self.env["wechat.mass.send"]
        for _index in range(4):
            self.new_send().action_send()
        over = Send._partners_over_monthly_limit(self.api_account, self.followers)
        self.assertEqual(over, self.followers)
        self.api_account.account_type = "subscription"
        over = Send._partners_over_monthly_limit(self.api_account, self.followers)
        self.assertFalse(over)

    def test_service_daily_api_limit(self):
        self.api_account.account_type = "service"
        self.env["wechat.mass.send"].create(
            [
                {
                    "account_id": self.api_account.id,
                    "article_id": self.article.id,
                    "state": "sent",
                    "send_date": fields.Datetime.now(),
                }
                for _index in range(100)
            ]
        )
        with self.assertRaises(UserError) as catcher:
            self.new_send().action_send()
        self.assertIn("daily maximum", str(catcher.exception))
        self.assertEqual(self.fake_api.calls["/cgi-bin/message/mass/sendall"], 0)

    def test_send_to_all_records_fans(self):
        send = self.new_send()
        send.action_send()
        self.assertEqual(send.partner_ids, self.followers)
        body = self.fake_api.mass_sends[send.client_msg_id]
        self.assertEqual(body["openids"], self.fake_api.followers)

    def test_text_send_to_tag(self):
        tag = self.env["wechat.tag"].create({"name": "Text", "account_id": self.api_account.id})
        tag._wechat_ensure_remote()
        tag._wechat_tag_partners(self.followers[0])
        send = self.new_send(
            msg_type="text", article_id=False, text_content=" 明晚八点直播 ", target="tag",
            tag_id=tag.id,
        )  # fmt: skip
        send.action_send()
        body = self.fake_api.mass_sends[send.client_msg_id]
        self.assertEqual(body["msgtype"], "text")
        self.assertEqual(body["text"], {"content": "明晚八点直播"})
        self.assertNotIn("mpnews", body)
        self.assertEqual(body["filter"], {"is_to_all": False, "tag_id": tag.wechat_id})
        self.assertEqual(body["openids"], [self.follower_openids[0]])
        self.assertEqual(send.partner_ids, self.followers[0])
        self.assertEqual(send.name, "明晚八点直播")
        self.assertEqual(self.fake_api.calls["/cgi-bin/draft/add"], 0)

    def test_content_required(self):
        with self.assertRaises(ValidationError):
            self.new_send(msg_type="text", article_id=False, text_content="  ")
        with self.assertRaises(ValidationError):
            self.new_send(article_id=False)

    def test_fetch_status(self):
        send = self.new_send()
        send.action_send()
        self.fake_api.mass_statuses[int(send.msg_id)] = "SENDING"
        self.assertFalse(send._wechat_fetch_status())
        self.assertEqual(send.state, "sent")
        self.fake_api.mass_statuses[int(send.msg_id)] = "SEND_SUCCESS"
        self.assertEqual(send._wechat_fetch_status(), send)
        self.assertEqual(send.state, "done")
        self.assertEqual(send.job_status, "SEND_SUCCESS")

    def test_old_sends_do_not_count(self):
        self.api_account.account_type = "subscription"
        old = self.new_send()
        old.action_send()
        old.send_date = fields.Datetime.now() - timedelta(days=2)
        self.new_send().action_send()
        self.assertEqual(len(self.fake_api.mass_sends), 2)

    def test_job_finish_event_stored(self):
        send = self.new_send()
        send.action_send()
        xml = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            "<FromUserName><![CDATA[oSystem]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
            f"<MsgID>{send.msg_id}</MsgID>"
            "<Status><![CDATA[send success]]></Status>"
            "<TotalCount>120</TotalCount><FilterCount>118</FilterCount>"
            "<SentCount>117</SentCount><ErrorCount>1</ErrorCount></xml>"
        )
        self.api_account._wechat_handle_message(parse_message(xml), xml)
        self.assertEqual(send.state, "done")
        self.assertEqual(send.job_status, "send success")
        self.assertEqual(send.sent_count, 117)
        self.assertEqual(send.filter_count, 118)
        self.assertEqual(send.error_count, 1)
