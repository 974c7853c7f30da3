import time
from datetime import timedelta

from freezegun import freeze_time
from wechatpy import parse_message

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SEND_TIME, CampaignCase

# Followers outside the 48-hour window beyond the first ones, so that tagging
# them takes two batchtagging calls of at most 50 OpenIDs.
EXTRA_FOLLOWERS = 50


@tagged("post_install", "-at_install")
class TestCampaignWechat(CampaignCase):
    """WeChat by customer-service message inside the 48-hour window and by tag outside it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account.write({"is_verified": True, "account_type": "subscription"})
        with freeze_time(SEND_TIME):
            # Wrote an hour ago: customer-service message.
            cls.recent = cls._create_fan("标签近", {"wechat", "email"})
            # Wrote three days ago: mass send to the campaign's tag.
            cls.older = cls._create_fan("标签旧", {"wechat", "email"}, wrote_hours_ago=72)
            # Never wrote, WeChat only: tag, or nothing when the tag is not possible.
            cls.silent = cls._create_fan("标签静", {"wechat"}, wrote_hours_ago=None)
            cls.email_only = cls._create_fan("标签邮", {"email"})
            cls.prefers_sms = cls._create_fan(
                "标签短", {"wechat", "sms"}, preferred="sms", wrote_hours_ago=72
            )
            cls.extras = cls.env["res.partner"].union(
                *(
                    cls._create_fan(f"标签多{index:02d}", {"wechat"}, wrote_hours_ago=None)
                    for index in range(EXTRA_FOLLOWERS)
                )
            )
        cls.by_tag = cls.older | cls.silent | cls.extras
        cls.segment = cls.env["fan.segment"].create(
            {"name": "标签", "extra_domain": "[('name', '=like', '标签%')]"}
        )
        cls.article = cls.env["wechat.article"].create(
            {
                "account_id": cls.account.id,
                "title": "冬季工作坊",
                "content": "<p>冬季工作坊开始报名了。</p>",
                "thumb_media_id": "THUMB0001",
            }
        )

    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.custom_messages.clear()
        self.fake_api.mass_sends.clear()
        self.fake_api.mass_statuses.clear()
        self.fake_api.tags.clear()
        self.fake_api.user_tags.clear()
        self.fake_api.deleted_tags.clear()

    def _openids(self, partners):
        return sorted(self._identity(partner) for partner in partners)

    def _finish_job(self, send):
        xml = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            "<FromUserName><![CDATA[oSystem]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
            f"<MsgID>{send.msg_id}</MsgID>"
            "<Status><![CDATA[send success]]></Status>"
            f"<TotalCount>{len(send.partner_ids)}</TotalCount>"
            f"<FilterCount>{len(send.partner_ids)}</FilterCount>"
            f"<SentCount>{len(send.partner_ids)}</SentCount><ErrorCount>0</ErrorCount></xml>"
        )
        self.account._wechat_handle_message(parse_message(xml), xml)

    def _only_mass_send(self):
        self.assertEqual(len(self.fake_api.mass_sends), 1)
        return next(iter(self.fake_api.mass_sends.values()))

    def test_text_by_window_and_by_tag(self):
        campaign = self._campaign()
        wechat_to, email_to, sms_to = self._send(campaign)

        # Inside the window: one customer-service text, to that fan only.
        self.assertEqual(wechat_to, {self._identity(self.recent)})
        message = self.fake_api.custom_messages[0]
        self.assertEqual(message["msgtype"], "text")
        self.assertEqual(message["text"]["content"], campaign.wechat_text)
        # Outside the window: one mass send to the campaign's tag, which contains them all.
        body = self._only_mass_send()
        self.assertEqual(body["msgtype"], "text")
        self.assertEqual(body["text"], {"content": campaign.wechat_text})
        self.assertEqual(body["openids"], self._openids(self.by_tag))
        uuid = self.env["ir.config_parameter"].get_param("database.uuid")
        self.assertEqual(body["clientmsgid"], f"fan-campaign-{uuid}-{campaign.id}-1")
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/create"], 1)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchtagging"], 2)
        tag_id = body["filter"]["tag_id"]
        self.assertEqual(body["filter"], {"is_to_all": False, "tag_id": tag_id})
        # Email and SMS only for the fans WeChat did not reach.
        self.assertEqual(email_to, {self.email_only.email})
        self.assertEqual(sms_to, {self.prefers_sms.fan_mobile})

        for fan in self.by_tag:
            recipient = self._recipient(campaign, fan)
            self.assertEqual(
                (recipient.channel, recipient.wechat_method, recipient.state),
                ("wechat", "tag", "sent"),
                fan.name,
            )
        recipient = self._recipient(campaign, self.recent)
        self.assertEqual(
            (recipient.channel, recipient.wechat_method, recipient.state),
            ("wechat", "customer_service", "sent"),
        )
        send = campaign.wechat_mass_send_ids
        self.assertEqual(len(send), 1)
        self.assertEqual(send.state, "sent")
        self.assertEqual(send.msg_id, str(body["msg_id"]))
        self.assertEqual(send.partner_ids, self.by_tag)
        self.assertEqual(send.tag_id.wechat_id, tag_id)
        self.assertEqual(send.tag_id.fan_campaign_id, campaign)
        self.assertEqual(self._recipient(campaign, self.older).wechat_mass_send_id, send)
        campaign.invalidate_recordset()
        self.assertEqual(campaign.wechat_sent_count, 1 + len(self.by_tag))
        self.assertEqual(campaign.reached_count, 3 + len(self.by_tag))

        # The job result arrives: it is stored and the tag is deleted on WeChat and in Odoo.
        tag = send.tag_id
        self._finish_job(send)
        self.assertEqual(send.state, "done")
        self.assertEqual(send.job_status, "send success")
        self.assertEqual(send.sent_count, len(self.by_tag))
        self.env["fan.campaign"]._cron_delete_wechat_tags()
        self.assertFalse(tag.exists())
        self.assertEqual(self.fake_api.deleted_tags, [tag_id])
        self.assertNotIn(tag_id, self.fake_api.tags)

    def test_article_by_window_and_by_tag(self):
        campaign = self._campaign(wechat_content_type="article", wechat_article_id=self.article.id)
        wechat_to, _email_to, _sms_to = self._send(campaign)

        self.assertTrue(self.article.media_id)
        self.assertEqual(self.fake_api.drafts[self.article.media_id][0]["title"], "冬季工作坊")
        self.assertEqual(wechat_to, {self._identity(self.recent)})
        message = self.fake_api.custom_messages[0]
        self.assertEqual(message["msgtype"], "mpnews")
        self.assertEqual(message["mpnews"], {"media_id": self.article.media_id})
        body = self._only_mass_send()
        self.assertEqual(body["msgtype"], "mpnews")
        self.assertEqual(body["mpnews"], {"media_id": self.article.media_id})
        self.assertEqual(body["openids"], self._openids(self.by_tag))
        logged = self.env["wechat.message"].search(
            [("fan_campaign_id", "=", campaign.id), ("direction", "=", "out")]
        )
        self.assertEqual(logged.partner_id, self.recent)
        self.assertEqual(logged.msg_type, "mpnews")

        # Article readers come from WeChat's article statistics of that send.
        send = campaign.wechat_mass_send_ids
        self.env["wechat.stat.article"].create(
            [
                {"account_id": self.account.id, "date": "2026-11-18", "read_user": 21,
                 "msgid": f"{send.msg_data_id}_1"},
                {"account_id": self.account.id, "date": "2026-11-19", "read_user": 4,
                 "msgid": f"{send.msg_data_id}_1"},
                {"account_id": self.account.id, "date": "2026-11-18", "read_user": 99,
                 "msgid": f"{send.msg_data_id}9_1"},
            ]
        )  # fmt: skip
        campaign.invalidate_recordset()
        self.assertEqual(campaign.wechat_read_count, 25)

    def test_subscription_daily_limit_falls_back(self):
        self.env["wechat.mass.send"].create(
            {
                "account_id": self.account.id,
                "msg_type": "text",
                "text_content": "今天已经群发过",
                "state": "sent",
                "send_date": SEND_TIME - timedelta(hours=1),
            }
        )
        campaign = self._campaign()
        wechat_to, email_to, _sms_to = self._send(campaign)

        self.assertEqual(wechat_to, {self._identity(self.recent)})
        self.assertFalse(self.fake_api.mass_sends)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/create"], 0)
        self.assertEqual(email_to, {self.older.email, self.email_only.email})
        older = self._recipient(campaign, self.older)
        self.assertEqual((older.channel, older.state), ("email", "sent"))
        self.assertIn("one mass send a day", older.reason)
        for fan in self.silent | self.extras:
            recipient = self._recipient(campaign, fan)
            self.assertEqual(recipient.state, "unreachable", fan.name)
            self.assertIn("one mass send a day", recipient.reason)

    def test_unverified_account_uses_window_only(self):
        self.account.is_verified = False
        campaign = self._campaign()
        wechat_to, email_to, _sms_to = self._send(campaign)
        self.assertEqual(wechat_to, {self._identity(self.recent)})
        self.assertFalse(self.fake_api.mass_sends)
        self.assertEqual(email_to, {self.older.email, self.email_only.email})
        silent = self._recipient(campaign, self.silent)
        self.assertEqual(silent.state, "unreachable")
        self.assertIn("verified", silent.reason)

    def test_account_tag_limit_on_wechat_falls_back(self):
        # WeChat has 100 tags that Odoo never pulled: tags/create fails with 45056.
        self.fake_api.tags.update({100 + index: f"t{index}" for index in range(100)})
        campaign = self._campaign()
        wechat_to, email_to, _sms_to = self._send(campaign)

        self.assertEqual(wechat_to, {self._identity(self.recent)})
        self.assertFalse(self.fake_api.mass_sends)
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/members/batchtagging"], 0)
        self.assertEqual(email_to, {self.older.email, self.email_only.email})
        older = self._recipient(campaign, self.older)
        self.assertEqual((older.channel, older.state), ("email", "sent"))
        self.assertIn("45056", older.reason)
        silent = self._recipient(campaign, self.silent)
        self.assertEqual(silent.state, "failed")
        self.assertIn("100 tags", silent.reason)

    def test_account_tag_limit_in_odoo_at_planning(self):
        self.env["wechat.tag"].create(
            [
                {"name": f"t{index}", "account_id": self.account.id, "wechat_id": 500 + index}
                for index in range(100)
            ]
        )
        campaign = self._campaign()
        with freeze_time(SEND_TIME):
            campaign.action_plan()
        older = self._recipient(campaign, self.older)
        self.assertEqual(older.channel, "email")
        self.assertIn("100 tags", older.reason)
        self.assertEqual(self._recipient(campaign, self.silent).state, "unreachable")
        self.assertEqual(self._recipient(campaign, self.recent).wechat_method, "customer_service")

    def test_fan_with_20_tags_falls_back(self):
        self.fake_api.user_tags[self._identity(self.older)].update(range(1, 21))
        campaign = self._campaign()
        wechat_to, email_to, _sms_to = self._send(campaign)

        body = self._only_mass_send()
        self.assertEqual(body["openids"], self._openids(self.by_tag - self.older))
        self.assertEqual(wechat_to, {self._identity(self.recent)})
        self.assertEqual(email_to, {self.older.email, self.email_only.email})
        older = self._recipient(campaign, self.older)
        self.assertEqual((older.channel, older.state), ("email", "sent"))
        self.assertIn("20 tags", older.reason)
        self.assertEqual(campaign.wechat_mass_send_ids.partner_ids, self.by_tag - self.older)

    def test_fan_with_20_tags_in_odoo_at_planning(self):
        self.env["wechat.tag"].create(
            [
                {
                    "name": f"t{index}",
                    "account_id": self.account.id,
                    "wechat_id": 700 + index,
                    "partner_ids": [(4, self.silent.id)],
                }
                for index in range(20)
            ]
        )
        campaign = self._campaign()
        with freeze_time(SEND_TIME):
            campaign.action_plan()
        silent = self._recipient(campaign, self.silent)
        self.assertEqual(silent.state, "unreachable")
        self.assertIn("20 tags", silent.reason)
        self.assertEqual(self._recipient(campaign, self.older).wechat_method, "tag")

    def test_service_monthly_limit_per_fan(self):
        self.account.account_type = "service"
        self.env["wechat.mass.send"].create(
            [
                {
                    "account_id": self.account.id,
                    "msg_type": "text",
                    "text_content": f"本月第{index + 1}次",
                    "state": "done",
                    "send_date": SEND_TIME - timedelta(days=index + 1),
                    "partner_ids": [(4, self.older.id)],
                }
                for index in range(4)
            ]
        )
        self.env["ir.config_parameter"].set_param("freelancer_campaign.cap_count", 0)
        campaign = self._campaign()
        _wechat_to, email_to, _sms_to = self._send(campaign)

        body = self._only_mass_send()
        self.assertEqual(body["openids"], self._openids(self.by_tag - self.older))
        self.assertEqual(email_to, {self.older.email, self.email_only.email})
        self.assertIn("4 mass sends", self._recipient(campaign, self.older).reason)

    def test_mass_send_failure_falls_back(self):
        self.fake_api.fail("/cgi-bin/message/mass/sendall", 45028)
        campaign = self._campaign()
        _wechat_to, email_to, _sms_to = self._send(campaign)

        self.assertFalse(self.fake_api.mass_sends)
        self.assertEqual(email_to, {self.older.email, self.email_only.email})
        self.assertIn("45028", self._recipient(campaign, self.older).reason)
        self.assertEqual(self._recipient(campaign, self.silent).state, "failed")
        self.assertEqual(campaign.wechat_mass_send_ids.state, "failed")
        # Nothing went out to the tag, so it is deleted at once.
        self.assertEqual(len(self.fake_api.deleted_tags), 1)
        self.assertFalse(self.fake_api.tags)
        self.assertFalse(self.env["wechat.tag"].search([("fan_campaign_id", "=", campaign.id)]))

        # Retry: a new mass send with a new clientmsgid, to the fans that failed only.
        self.fake_api.reset_counters()
        wechat_to, email_to, _sms_to = self._deliver(campaign.action_retry_failed)
        body = self._only_mass_send()
        self.assertEqual(body["openids"], self._openids(self.silent | self.extras))
        self.assertTrue(body["clientmsgid"].endswith(f"-{campaign.id}-2"))
        self.assertFalse(wechat_to)
        self.assertFalse(email_to)
        self.assertEqual(self._recipient(campaign, self.silent).state, "sent")

    def test_send_again_after_rollback_sends_once(self):
        campaign = self._campaign()
        # WeChat accepts the mass send, then the transaction rolls back, so Odoo
        # has no record of the send.
        with self.assertRaisesRegex(RuntimeError, "after WeChat"):
            with self.env.cr.savepoint():
                self._send(campaign)
                raise RuntimeError("server stopped after WeChat accepted the send")
        self.env.invalidate_all()
        first = self._only_mass_send()
        self.assertEqual(campaign.state, "draft")

        self._send(campaign)

        self.assertEqual(self._only_mass_send(), first)
        send = campaign.wechat_mass_send_ids
        self.assertEqual(send.msg_id, str(first["msg_id"]))
        self.assertEqual(send.state, "sent")
        # The tag created the first time is found on WeChat and used again.
        self.assertEqual(len(self.fake_api.tags), 1)
        self.assertEqual(send.tag_id.wechat_id, first["filter"]["tag_id"])
        self.assertEqual(self.fake_api.calls["/cgi-bin/tags/create"], 2)
        self.assertEqual(self._recipient(campaign, self.older).state, "sent")

    def test_cron_checks_status_without_event(self):
        campaign = self._campaign()
        self._send(campaign)
        send = campaign.wechat_mass_send_ids
        tag = send.tag_id
        self.fake_api.mass_statuses[int(send.msg_id)] = "SENDING"
        self.env["fan.campaign"]._cron_delete_wechat_tags()
        self.assertTrue(tag.exists())
        self.assertEqual(send.state, "sent")

        self.fake_api.mass_statuses[int(send.msg_id)] = "SEND_SUCCESS"
        self.env["fan.campaign"]._cron_delete_wechat_tags()
        self.assertFalse(tag.exists())
        self.assertEqual(send.state, "done")
        self.assertEqual(send.job_status, "SEND_SUCCESS")
        self.assertEqual(len(self.fake_api.deleted_tags), 1)

    def test_cap_counts_mass_send_to_all(self):
        # A service account, so that the campaign may mass send on the same day.
        self.account.account_type = "service"
        self.env["ir.config_parameter"].set_param("freelancer_campaign.cap_count", 1)
        with freeze_time(SEND_TIME):
            send = self.env["wechat.mass.send"].create(
                {"account_id": self.account.id, "msg_type": "text", "text_content": "新品上架"}
            )
            send.action_send()
        followers = self.recent | self.older | self.silent | self.prefers_sms | self.extras
        self.assertEqual(send.partner_ids, followers)

        campaign = self._campaign()
        with freeze_time(SEND_TIME):
            campaign.action_plan()
        for fan in followers:
            self.assertEqual(self._recipient(campaign, fan).state, "capped", fan.name)
        self.assertEqual(self._recipient(campaign, self.email_only).state, "planned")

    def test_cap_counts_mass_send_to_tag(self):
        self.account.account_type = "service"
        self.env["ir.config_parameter"].set_param("freelancer_campaign.cap_count", 1)
        tag = self.env["wechat.tag"].create({"name": "核心", "account_id": self.account.id})
        tag._wechat_ensure_remote()
        tag._wechat_tag_partners(self.older)
        with freeze_time(SEND_TIME):
            self.env["wechat.mass.send"].create(
                {
                    "account_id": self.account.id,
                    "msg_type": "text",
                    "text_content": "核心粉丝专享",
                    "target": "tag",
                    "tag_id": tag.id,
                }
            ).action_send()
            campaign = self._campaign()
            campaign.action_plan()
        self.assertEqual(self._recipient(campaign, self.older).state, "capped")
        self.assertEqual(self._recipient(campaign, self.silent).state, "planned")
        self.assertEqual(self._recipient(campaign, self.recent).state, "planned")

    def test_cap_counts_campaign_tag_send_once(self):
        first = self._campaign()
        self._send(first)
        with freeze_time(SEND_TIME):
            counts = first._marketing_counts(self.by_tag | self.recent | self.email_only)
        for fan in self.by_tag:
            self.assertEqual(counts.get(fan.id), 1, fan.name)
        self.assertEqual(counts.get(self.recent.id), 1)
        self.assertEqual(counts.get(self.email_only.id), 1)

        self.env["ir.config_parameter"].set_param("freelancer_campaign.cap_count", 1)
        second = self._campaign(name="第二次")
        with (
            freeze_time(SEND_TIME + timedelta(days=1)),
            self.assertRaisesRegex(
                UserError,
                r"0 cannot be reached on any channel .* and \d+ are over the frequency cap",
            ),
        ):
            second.action_plan()
        # A request would roll the plan back with the error; the test transaction keeps it.
        for fan in self.by_tag:
            self.assertEqual(self._recipient(second, fan).state, "capped", fan.name)
