import time
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.freelancer_wechat.controllers import main as callback

from .common import NONCE, SAFE_TOKEN, WechatCallbackCase, sign
from .fake_wechat_api import FakeWechatApi

VIDEO_TITLE = "车床入门"
VIDEO_DESCRIPTION = "十分钟看懂车床的三个手柄"


class WechatMediaReplyCase(WechatCallbackCase):
    """Callback accounts whose materials and articles come from a fake WeChat API.

    Each account gets its own fake API, materials synced from it (an image, a
    voice message, a video and a cover image) and two published articles
    whose links were fetched from it.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.materials = {}
        cls.articles = {}
        cls.fakes = {}
        for account in (cls.account, cls.safe_account):
            cls._connect_fake_api(account)

    @classmethod
    def _connect_fake_api(cls, account):
        fake = FakeWechatApi(app_id=account.app_id, secret="media-secret")
        fake.start()
        cls.addClassCleanup(fake.stop)
        account.write({"app_secret": "media-secret", "api_base_url": fake.base_url})

        fake.add_material("image", "poster.jpg")
        fake.add_material("voice", "greeting.mp3")
        fake.add_material("video", "lathe.mp4", title=VIDEO_TITLE, introduction=VIDEO_DESCRIPTION)
        cover = fake.add_material("image", "cover.jpg")
        Material = cls.env["wechat.material"]
        Material._wechat_sync(account)
        materials = {
            material.name: material
            for material in Material.search([("account_id", "=", account.id)])
        }
        # batchget_material lists no title for videos; a Fan Manager types it in Odoo.
        materials["lathe.mp4"].write({"title": VIDEO_TITLE, "description": VIDEO_DESCRIPTION})

        Article = cls.env["wechat.article"]
        articles = Article.browse()
        for title, digest in (("木勺的保养", "三步护理"), ("春季陶艺课", "每周六下午")):
            article = Article.create(
                {
                    "account_id": account.id,
                    "title": title,
                    "digest": digest,
                    "content": f"<p>{title}</p>",
                    "thumb_media_id": cover["media_id"],
                }
            )
            article.action_publish()
            article.action_fetch_link()
            articles |= article

        cls.fakes[account.id] = fake
        cls.materials[account.id] = materials
        cls.articles[account.id] = articles

    def material(self, name, account=None):
        return self.materials[(account or self.account).id][name]

    def add_rule(self, keyword, reply_type, account=None, **vals):
        return self.env["wechat.reply.rule"].create(
            dict(
                {
                    "account_id": (account or self.account).id,
                    "keyword": keyword,
                    "match_type": "exact",
                    "reply_type": reply_type,
                },
                **vals,
            )
        )

    def reply_cases(self, account):
        """Return ``(keyword, rule values, check)`` for each reply type.

        ``check(reply)`` asserts the reply XML, parsed into a dict.
        """
        image = self.material("poster.jpg", account)
        voice = self.material("greeting.mp3", account)
        video = self.material("lathe.mp4", account)
        article = self.articles[account.id][0]

        def check_text(reply):
            self.assertEqual(reply["MsgType"], "text")
            self.assertEqual(reply["Content"], "课程每周二晚上")

        def check_image(reply):
            self.assertEqual(reply["MsgType"], "image")
            self.assertEqual(reply["Image"]["MediaId"], image.media_id)

        def check_voice(reply):
            self.assertEqual(reply["MsgType"], "voice")
            self.assertEqual(reply["Voice"]["MediaId"], voice.media_id)

        def check_video(reply):
            self.assertEqual(reply["MsgType"], "video")
            self.assertEqual(reply["Video"]["MediaId"], video.media_id)
            self.assertEqual(reply["Video"]["Title"], VIDEO_TITLE)
            self.assertEqual(reply["Video"]["Description"], VIDEO_DESCRIPTION)

        def check_news(reply):
            self.assertEqual(reply["MsgType"], "news")
            self.assertEqual(reply["ArticleCount"], "1")
            item = reply["Articles"]["item"]
            self.assertEqual(item["Title"], article.title)
            self.assertEqual(item["Description"], article.digest)
            self.assertEqual(item["PicUrl"], self.material("cover.jpg", account).url)
            self.assertEqual(item["Url"], article.article_url)

        return [
            ("文字", {"reply_type": "text", "reply_text": "课程每周二晚上"}, check_text),
            ("海报", {"reply_type": "image", "material_id": image.id}, check_image),
            ("语音", {"reply_type": "voice", "material_id": voice.id}, check_voice),
            ("视频", {"reply_type": "video", "material_id": video.id}, check_video),
            ("文章", {"reply_type": "news", "article_ids": [(6, 0, article.ids)]}, check_news),
        ]

    def incoming_of(self, openid, account=None):
        return self.messages_of(openid, account).filtered(lambda m: m.direction == "in")


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestMediaReplies(WechatMediaReplyCase):
    # ------------------------------------------------------------
    # PASSIVE REPLIES
    # ------------------------------------------------------------

    def test_reply_types_plain(self):
        for index, (keyword, vals, check) in enumerate(self.reply_cases(self.account)):
            with self.subTest(reply_type=vals["reply_type"]):
                rule = self.add_rule(keyword, **vals)
                openid = f"oMediaPlain0000000{index}"
                reply = self.parse_reply(self.post_plain(self.text_xml(openid, keyword)))

                check(reply)
                self.assertEqual(reply["ToUserName"], openid)
                self.assertEqual(reply["FromUserName"], "gh_test")
                self.assertEqual(rule.hit_count, 1)
                sent = self.incoming_of(openid).reply_message_id
                self.assertEqual(sent.msg_type, vals["reply_type"])
                self.assertEqual(sent.reply_rule_id, rule)
                self.assertEqual(sent.material_id, rule.material_id)

    def test_reply_types_safe(self):
        for index, (keyword, vals, check) in enumerate(self.reply_cases(self.safe_account)):
            with self.subTest(reply_type=vals["reply_type"]):
                self.add_rule(keyword, account=self.safe_account, **vals)
                openid = f"oMediaSafe00000000{index}"
                response = self.post_safe(self.text_xml(openid, keyword))

                self.assertNotIn("MsgType", response.text, "the reply must be encrypted")
                reply = self.decrypt_reply(response)
                check(reply)
                self.assertEqual(reply["ToUserName"], openid)

    def test_reply_types_compatible(self):
        """Encrypt the reply to an encrypted push, and only to it, in compatible mode."""
        self.safe_account.message_mode = "compatible"
        image = self.material("poster.jpg", self.safe_account)
        self.add_rule("海报", "image", account=self.safe_account, material_id=image.id)

        encrypted = self.decrypt_reply(
            self.post_safe(self.text_xml("oMediaCompat00000001", "海报"))
        )
        self.assertEqual(encrypted["Image"]["MediaId"], image.media_id)

        timestamp = str(int(time.time()))
        response = self.url_open(
            self.callback_path(self.safe_account),
            data=self.text_xml("oMediaCompat00000002", "海报").encode(),
            params={
                "signature": sign(SAFE_TOKEN, timestamp, NONCE),
                "timestamp": timestamp,
                "nonce": NONCE,
            },
            headers={"Content-Type": "text/xml"},
        )
        plain = self.parse_reply(response)
        self.assertEqual(plain["MsgType"], "image")
        self.assertEqual(plain["Image"]["MediaId"], image.media_id)

    def test_welcome_articles(self):
        articles = self.articles[self.account.id]
        self.account.write(
            {"welcome_reply_type": "news", "welcome_article_ids": [(6, 0, articles.ids)]}
        )
        openid = "oMediaWelcome0000001"
        reply = self.parse_reply(self.post_plain(self.event_xml(openid, "subscribe")))

        self.assertEqual(reply["MsgType"], "news")
        self.assertEqual(reply["ArticleCount"], "2")
        items = reply["Articles"]["item"]
        # Articles are listed newest first, the order of wechat.article.
        self.assertEqual([item["Title"] for item in items], ["春季陶艺课", "木勺的保养"])
        self.assertEqual(
            [item["Url"] for item in items],
            articles.sorted("id", reverse=True).mapped("article_url"),
        )
        sent = self.incoming_of(openid).reply_message_id
        self.assertEqual(sent.msg_type, "news")
        self.assertEqual(sent.content, "[news] 春季陶艺课 / 木勺的保养")
        self.assertEqual(self.fan_of(openid).consent_wechat, "granted")

    def test_welcome_video_safe(self):
        video = self.material("lathe.mp4", self.safe_account)
        self.safe_account.write({"welcome_reply_type": "video", "welcome_material_id": video.id})
        reply = self.decrypt_reply(
            self.post_safe(self.event_xml("oMediaWelcomeSafe001", "subscribe"))
        )

        self.assertEqual(reply["MsgType"], "video")
        self.assertEqual(reply["Video"]["MediaId"], video.media_id)
        self.assertEqual(reply["Video"]["Title"], VIDEO_TITLE)

    def test_default_image_reply_to_voice_message(self):
        image = self.material("poster.jpg")
        self.account.write({"default_reply_type": "image", "default_material_id": image.id})
        openid = "oMediaDefault0000001"
        xml = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[voice]]></MsgType>"
            "<MediaId><![CDATA[voice_media_1]]></MediaId><Format><![CDATA[amr]]></Format>"
            f"<MsgId>{self.next_msg_id()}</MsgId></xml>"
        )
        reply = self.parse_reply(self.post_plain(xml))

        self.assertEqual(reply["MsgType"], "image")
        self.assertEqual(reply["Image"]["MediaId"], image.media_id)

    def test_retry_gets_same_media_reply(self):
        voice = self.material("greeting.mp3")
        rule = self.add_rule("语音", "voice", material_id=voice.id)
        xml = self.text_xml("oMediaRetry000000001", "语音", msg_id=7100000000000000001)
        first = self.parse_reply(self.post_plain(xml))
        second = self.parse_reply(self.post_plain(xml))

        self.assertEqual(first["Voice"]["MediaId"], voice.media_id)
        self.assertEqual(second["MsgType"], "voice")
        self.assertEqual(second["Voice"]["MediaId"], voice.media_id)
        self.assertEqual(rule.hit_count, 1)

    def test_material_deleted_on_wechat_sends_nothing(self):
        fake = self.fakes[self.account.id]
        image = self.material("poster.jpg")
        self.add_rule("海报", "image", material_id=image.id)
        stored = fake.materials.pop(image.media_id)
        self.addCleanup(fake.materials.__setitem__, image.media_id, stored)
        self.env["wechat.material"]._wechat_sync(self.account)
        self.assertFalse(image.active)

        response = self.post_plain(self.text_xml("oMediaGone0000000001", "海报"))

        self.assertEqual(response.text, "success", "an unknown media ID would show an error")

    def test_catastrophic_regex_times_out(self):
        slow = self.add_rule(r"(a|aa)+$", "text", sequence=1, match_type="regex", reply_text="slow")
        fallback = self.add_rule("aaa", "text", sequence=2, match_type="contains", reply_text="ok")
        started = time.monotonic()
        reply = self.parse_reply(
            self.post_plain(self.text_xml("oMediaRegex000000001", "a" * 40 + "!"))
        )
        elapsed = time.monotonic() - started

        self.assertEqual(reply["Content"], "ok")
        self.assertEqual(slow.hit_count, 0)
        self.assertEqual(fallback.hit_count, 1)
        self.assertLess(elapsed, 3, "the regular expression must stop after its timeout")

    # ------------------------------------------------------------
    # LATE REPLIES
    # ------------------------------------------------------------

    def post_late(self, xml):
        with patch.object(callback, "REPLY_BUDGET_SECONDS", -1):
            return self.post_plain(xml)

    def test_late_image_reply(self):
        fake = self.fakes[self.account.id]
        fake.custom_messages.clear()
        image = self.material("poster.jpg")
        self.add_rule("海报", "image", material_id=image.id)
        openid = "oMediaLateImage00001"

        response = self.post_late(self.text_xml(openid, "海报"))
        self.assertEqual(response.text, "success")
        sent = self.incoming_of(openid).reply_message_id
        self.assertEqual(sent.delivery_state, "queued")

        self.env["wechat.message"]._cron_send_late_replies()
        self.assertEqual(sent.delivery_state, "sent")
        self.assertEqual(
            fake.custom_messages,
            [{"touser": openid, "msgtype": "image", "image": {"media_id": image.media_id}}],
        )

    def test_late_article_reply_by_article_id(self):
        fake = self.fakes[self.account.id]
        fake.custom_messages.clear()
        article = self.articles[self.account.id][1]
        self.add_rule("文章", "news", article_ids=[(6, 0, article.ids)])
        openid = "oMediaLateNews000001"

        self.post_late(self.text_xml(openid, "文章"))
        self.env["wechat.message"]._cron_send_late_replies()

        self.assertEqual(
            fake.custom_messages,
            [
                {
                    "touser": openid,
                    "msgtype": "mpnewsarticle",
                    "mpnewsarticle": {"article_id": article.article_id},
                }
            ],
        )
        self.assertEqual(self.incoming_of(openid).reply_message_id.delivery_state, "sent")

    def test_late_article_reply_as_link(self):
        """An article whose link was typed in, without an article ID, goes out as a link card."""
        fake = self.fakes[self.account.id]
        fake.custom_messages.clear()
        article = self.articles[self.account.id][0]
        article.article_id = False
        self.add_rule("文章", "news", article_ids=[(6, 0, article.ids)])
        openid = "oMediaLateLink000001"

        self.post_late(self.text_xml(openid, "文章"))
        self.env["wechat.message"]._cron_send_late_replies()

        self.assertEqual(len(fake.custom_messages), 1)
        sent = fake.custom_messages[0]
        self.assertEqual(sent["msgtype"], "news")
        self.assertEqual(
            sent["news"]["articles"],
            [
                {
                    "title": article.title,
                    "description": article.digest,
                    "url": article.article_url,
                    "picurl": self.material("cover.jpg").url,
                }
            ],
        )

    def test_late_welcome_articles_send_first(self):
        fake = self.fakes[self.account.id]
        fake.custom_messages.clear()
        articles = self.articles[self.account.id]
        self.account.write(
            {"welcome_reply_type": "news", "welcome_article_ids": [(6, 0, articles.ids)]}
        )
        openid = "oMediaLateWelcome001"

        self.post_late(self.event_xml(openid, "subscribe"))
        self.env["wechat.message"]._cron_send_late_replies()

        # A customer-service message carries one article: the first one shown.
        self.assertEqual(len(fake.custom_messages), 1)
        self.assertEqual(
            fake.custom_messages[0]["mpnewsarticle"]["article_id"],
            articles.sorted("id", reverse=True)[0].article_id,
        )

    def test_late_voice_reply_failure_kept(self):
        fake = self.fakes[self.account.id]
        voice = self.material("greeting.mp3")
        self.add_rule("语音", "voice", material_id=voice.id)
        openid = "oMediaLateVoice00001"
        self.post_late(self.text_xml(openid, "语音"))
        fake.fail("/cgi-bin/message/custom/send", 45015)

        self.env["wechat.message"]._cron_send_late_replies()

        sent = self.incoming_of(openid).reply_message_id
        self.assertEqual(sent.delivery_state, "failed")
        self.assertIn("45015", sent.delivery_error)


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestReplyValidation(WechatMediaReplyCase):
    def assert_invalid(self, text, function):
        with self.assertRaises(ValidationError) as catcher:
            function()
        self.assertIn(text, str(catcher.exception))

    def test_rule_material_checks(self):
        image = self.material("poster.jpg")
        voice = self.material("greeting.mp3")
        other_image = self.material("poster.jpg", self.safe_account)
        not_uploaded = self.env["wechat.material"].create(
            {"account_id": self.account.id, "name": "draft.jpg", "media_type": "image"}
        )
        archived = self.env["wechat.material"].create(
            {"account_id": self.account.id, "name": "old.jpg", "media_type": "image"}
        )
        archived.write({"media_id": "MEDIAIMAGEOLD", "active": False})
        cases = [
            ({}, "has the reply type Image but no material"),
            ({"material_id": voice.id}, "is of type Voice"),
            ({"material_id": other_image.id}, "belongs to another Official Account"),
            ({"material_id": not_uploaded.id}, "not uploaded to WeChat yet"),
            ({"material_id": archived.id}, "deleted on WeChat and is archived"),
        ]
        for vals, expected in cases:
            with self.subTest(expected=expected):
                self.assert_invalid(
                    expected, lambda vals=vals: self.add_rule("图", "image", **vals)
                )

        rule = self.add_rule("图", "image", material_id=image.id)
        self.assert_invalid("is of type Image", lambda: rule.write({"reply_type": "video"}))
        self.assert_invalid("has no reply text", lambda: rule.write({"reply_type": "text"}))

    def test_rule_article_checks(self):
        articles = self.articles[self.account.id]
        unpublished = self.env["wechat.article"].create(
            {
                "account_id": self.account.id,
                "title": "未发布",
                "content": "<p>x</p>",
                "thumb_media_id": self.material("cover.jpg").media_id,
            }
        )
        cases = [
            ({}, "has the reply type Articles but no article"),
            ({"article_ids": [(6, 0, articles.ids)]}, "at most 1 in this reply"),
            ({"article_ids": [(6, 0, unpublished.ids)]}, "has no article link yet"),
            (
                {"article_ids": [(6, 0, self.articles[self.safe_account.id][:1].ids)]},
                "belongs to another Official Account",
            ),
        ]
        for vals, expected in cases:
            with self.subTest(expected=expected):
                self.assert_invalid(expected, lambda vals=vals: self.add_rule("文", "news", **vals))

    def test_welcome_and_default_checks(self):
        account = self.account
        self.assert_invalid(
            "The welcome reply of “Test Plain Account” has the reply type Video but no material",
            lambda: account.write({"welcome_reply_type": "video"}),
        )
        self.assert_invalid(
            "The default reply of “Test Plain Account” has 2 articles, but WeChat shows at most 1",
            lambda: account.write(
                {
                    "default_reply_type": "news",
                    "default_article_ids": [(6, 0, self.articles[account.id].ids)],
                }
            ),
        )
        # An empty text is valid and sends nothing.
        account.write({"welcome_reply": False, "default_reply": False})
        self.assertEqual(account.welcome_reply_type, "text")

    def test_welcome_allows_8_articles(self):
        cover = self.material("cover.jpg").media_id
        Article = self.env["wechat.article"]
        extra = Article.create(
            [
                {
                    "account_id": self.account.id,
                    "title": f"第 {index} 篇",
                    "content": "<p>x</p>",
                    "thumb_media_id": cover,
                }
                for index in range(7)
            ]
        )
        # Published in the WeChat back office: the link is typed in by hand.
        for article in extra:
            article.write(
                {
                    "state": "published",
                    "article_url": f"{self.fakes[self.account.id].base_url}/s/{article.id}",
                }
            )
        eight = self.articles[self.account.id][:1] | extra
        self.account.write(
            {"welcome_reply_type": "news", "welcome_article_ids": [(6, 0, eight.ids)]}
        )
        self.assertEqual(len(self.account.welcome_article_ids), 8)

        nine = eight | self.articles[self.account.id]
        self.assert_invalid(
            "has 9 articles, but WeChat shows at most 8",
            lambda: self.account.write({"welcome_article_ids": [(6, 0, nine.ids)]}),
        )

    def test_error_translated(self):
        Rule = self.env["wechat.reply.rule"].with_context(lang="zh_CN")
        with self.assertRaises(ValidationError) as catcher:
            Rule.create({"account_id": self.account.id, "keyword": "图", "reply_type": "image"})
        self.assertIn("关键词回复“图”", str(catcher.exception))
        self.assertIn("素材", str(catcher.exception))


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestKeywordIndex(WechatMediaReplyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.add_index_rules(cls.account)

    @classmethod
    def add_index_rules(cls, account):
        Rule = cls.env["wechat.reply.rule"]
        base = {"account_id": account.id, "reply_type": "text", "reply_text": "r"}
        Rule.create(
            [
                dict(base, sequence=10, keyword="目录", description="往期文章"),
                dict(base, sequence=20, keyword=" 课程 ", match_type="contains"),
                dict(base, sequence=30, keyword=r"\d{11}", match_type="regex"),
                dict(base, sequence=40, keyword="旧活动", active=False),
                dict(base, sequence=5, keyword="报名", match_type="prefix", description="报名方式"),
            ]
        )

    def test_index_rule_created_once(self):
        account = self.account.with_context(lang="zh_CN")
        action = account.action_add_keyword_index()
        rule = self.env["wechat.reply.rule"].browse(action["res_id"])

        self.assertEqual(rule.keyword, "菜单")
        self.assertEqual(rule.reply_type, "keyword_index")
        self.assertEqual(rule.match_type, "exact")
        self.assertEqual(account.action_add_keyword_index()["res_id"], rule.id)

    def test_index_reply_chinese(self):
        self.account.reply_lang = "zh_CN"
        self.account.with_context(lang="zh_CN").action_add_keyword_index()
        reply = self.parse_reply(self.post_plain(self.text_xml("oIndexChinese0000001", "菜单")))

        self.assertEqual(reply["MsgType"], "text")
        self.assertEqual(reply["Content"], "回复以下关键词：\n报名：报名方式\n目录：往期文章\n课程")

    def test_index_reply_english(self):
        self.env["res.lang"]._activate_lang("en_US")
        self.account.reply_lang = "en_US"
        self.add_rule("menu", "keyword_index")
        reply = self.parse_reply(self.post_plain(self.text_xml("oIndexEnglish0000001", "menu")))

        self.assertEqual(
            reply["Content"],
            "Reply with one of these keywords:\n报名: 报名方式\n目录: 往期文章\n课程",
        )

    def test_index_as_welcome_reply(self):
        self.account.write({"reply_lang": "zh_CN", "welcome_reply_type": "keyword_index"})
        reply = self.parse_reply(
            self.post_plain(self.event_xml("oIndexWelcome0000001", "subscribe"))
        )

        self.assertTrue(reply["Content"].startswith("回复以下关键词："))
        self.assertIn("目录：往期文章", reply["Content"])

    def test_index_preview_on_rule(self):
        self.account.reply_lang = "zh_CN"
        rule = self.add_rule("?", "keyword_index")
        self.assertEqual(rule.keyword_index_preview, self.account._keyword_index_text())
        self.assertNotIn("?", rule.keyword_index_preview, "the index does not list itself")
        self.assertNotIn(r"\d{11}", rule.keyword_index_preview)
        self.assertNotIn("旧活动", rule.keyword_index_preview)
