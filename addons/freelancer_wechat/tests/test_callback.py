import time

from odoo.tests import tagged

from .common import NONCE, PLAIN_TOKEN, WechatCallbackCase, sign


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestCallbackPlain(WechatCallbackCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["wechat.reply.rule"]
        cls.rule_exact = Rule.create(
            {
                "account_id": cls.account.id,
                "sequence": 10,
                "keyword": "Menu",
                "match_type": "exact",
                "reply_text": "exact reply",
            }
        )
        cls.rule_contains = Rule.create(
            {
                "account_id": cls.account.id,
                "sequence": 20,
                "keyword": "课程",
                "match_type": "contains",
                "reply_text": "contains reply",
            }
        )
        cls.rule_prefix = Rule.create(
            {
                "account_id": cls.account.id,
                "sequence": 30,
                "keyword": "报名",
                "match_type": "prefix",
                "reply_text": "prefix reply",
            }
        )
        cls.rule_regex = Rule.create(
            {
                "account_id": cls.account.id,
                "sequence": 40,
                "keyword": r"^order\s*\d{4}$",
                "match_type": "regex",
                "reply_text": "regex reply",
            }
        )

    def assert_nothing_stored(self, openid):
        self.assertFalse(self.messages_of(openid), "a rejected request must not be logged")
        self.assertFalse(self.fan_of(openid), "a rejected request must not create a fan")

    # ------------------------------------------------------------
    # FOLLOW AND UNFOLLOW
    # ------------------------------------------------------------

    def test_subscribe_creates_fan(self):
        openid = "oTestSubscribeNew0001"
        response = self.post_plain(self.event_xml(openid, "subscribe", "qrscene_spring_fair"))

        reply = self.parse_reply(response)
        self.assertEqual(reply["MsgType"], "text")
        self.assertEqual(reply["Content"], "Welcome aboard")
        self.assertEqual(reply["ToUserName"], openid)
        self.assertEqual(reply["FromUserName"], "gh_test")

        fan = self.fan_of(openid)
        self.assertEqual(len(fan), 1)
        self.assertTrue(fan.is_fan)
        self.assertEqual(fan.fan_source, "wechat")
        self.assertEqual(fan.wechat_scene, "spring_fair")
        identity = fan.fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid")
        self.assertEqual(identity.value, openid)
        self.assertEqual(identity.account_key, self.account.app_id)

        self.assertEqual(fan.consent_wechat, "granted")
        consent = fan.fan_consent_ids
        self.assertEqual(len(consent), 1)
        self.assertEqual(consent.action, "grant")
        self.assertEqual(consent.source, "wechat_follow")
        self.assertEqual(consent.address, openid)

        incoming = self.messages_of(openid).filtered(lambda m: m.direction == "in")
        self.assertEqual(incoming.event, "subscribe_scan")
        self.assertEqual(incoming.event_key, "spring_fair")
        self.assertEqual(incoming.partner_id, fan)
        self.assertEqual(consent.res_model, "wechat.message")
        self.assertEqual(consent.res_id, incoming.id)
        self.assertEqual(incoming.reply_message_id.content, "Welcome aboard")
        self.assertEqual(incoming.reply_message_id.direction, "out")
        self.assertEqual(fan.fan_interaction_ids.mapped("interaction_type"), ["wechat_follow"])

    def test_subscribe_links_existing_fan(self):
        openid = "oTestSubscribeKnown01"
        Partner = self.env["res.partner"]
        fan = Partner.create(Partner._fan_prepare_vals(name="Known Fan", fan_source="import"))
        fan._fan_add_identities({"wechat_openid": openid}, account_key=self.account.app_id)
        partner_count = Partner.search_count([])

        reply = self.parse_reply(self.post_plain(self.event_xml(openid, "subscribe")))

        self.assertEqual(reply["Content"], "Welcome aboard")
        self.assertEqual(Partner.search_count([]), partner_count, "no new partner expected")
        self.assertEqual(self.fan_of(openid), fan)
        self.assertEqual(fan.fan_source, "import", "the original fan source is kept")
        self.assertEqual(fan.consent_wechat, "granted")
        self.assertEqual(self.messages_of(openid).partner_id, fan)

    def test_unsubscribe_withdraws_consent(self):
        openid = "oTestUnsubscribe00001"
        now = int(time.time())
        self.post_plain(self.event_xml(openid, "subscribe", create_time=now - 60))
        response = self.post_plain(self.event_xml(openid, "unsubscribe", create_time=now))

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "success")
        fan = self.fan_of(openid)
        self.assertEqual(fan.consent_wechat, "withdrawn")
        newest = fan.fan_consent_ids.sorted(lambda c: c.id)[-1]
        self.assertEqual(newest.action, "withdraw")
        self.assertEqual(newest.source, "wechat_unfollow")
        self.assertIn("wechat_unfollow", fan.fan_interaction_ids.mapped("interaction_type"))
        unsubscribe = self.messages_of(openid).filtered(lambda m: m.event == "unsubscribe")
        self.assertFalse(unsubscribe.reply_message_id, "WeChat shows no reply to an unfollow")

    def test_unsubscribe_unknown_openid(self):
        openid = "oTestUnsubscribeGhost"
        response = self.post_plain(self.event_xml(openid, "unsubscribe"))

        self.assertEqual(response.text, "success")
        self.assertFalse(self.fan_of(openid), "an unfollow alone does not create a fan")
        self.assertEqual(self.messages_of(openid).event, "unsubscribe")

    def test_menu_and_scan_events(self):
        openid = "oTestMenuClick000001"
        now = int(time.time())
        self.post_plain(self.event_xml(openid, "subscribe", create_time=now - 10))
        click = self.post_plain(self.event_xml(openid, "CLICK", "MENU_COURSES", create_time=now))
        scan = self.post_plain(self.event_xml(openid, "SCAN", "shop_counter", create_time=now + 1))

        self.assertEqual(click.text, "success")
        self.assertEqual(scan.text, "success")
        fan = self.fan_of(openid)
        interactions = fan.fan_interaction_ids
        menu = interactions.filtered(lambda i: i.interaction_type == "wechat_menu")
        self.assertEqual(len(menu), 1)
        self.assertIn("MENU_COURSES", menu.name)
        scan_interaction = interactions.filtered(lambda i: i.interaction_type == "wechat_scan")
        self.assertEqual(scan_interaction.channel, "wechat")
        self.assertEqual(fan.wechat_scene, "shop_counter")

    # ------------------------------------------------------------
    # KEYWORD AND DEFAULT REPLIES
    # ------------------------------------------------------------

    def test_keyword_match_types(self):
        cases = [
            ("menu ", self.rule_exact, "exact reply"),
            ("我想了解课程安排", self.rule_contains, "contains reply"),
            ("报名 周六", self.rule_prefix, "prefix reply"),
            ("order 2024", self.rule_regex, "regex reply"),
        ]
        for index, (text, rule, expected) in enumerate(cases):
            with self.subTest(text=text):
                openid = f"oTestKeyword00000{index}"
                reply = self.parse_reply(self.post_plain(self.text_xml(openid, text)))
                self.assertEqual(reply["Content"], expected)
                self.assertEqual(reply["ToUserName"], openid)
                self.assertEqual(rule.hit_count, 1)
                incoming = self.messages_of(openid).filtered(lambda m: m.direction == "in")
                # xmltodict strips surrounding whitespace from node text.
                self.assertEqual(incoming.content, text.strip())
                self.assertEqual(incoming.reply_rule_id, rule)
                self.assertEqual(incoming.reply_message_id.content, expected)
                fan = self.fan_of(openid)
                self.assertEqual(incoming.partner_id, fan)
                self.assertEqual(
                    fan.fan_interaction_ids.mapped("interaction_type"), ["wechat_message"]
                )

    def test_keyword_no_partial_exact(self):
        openid = "oTestKeywordNoMatch01"
        reply = self.parse_reply(self.post_plain(self.text_xml(openid, "Menus please")))

        self.assertEqual(reply["Content"], "We got your message", "exact must not match a prefix")
        self.assertEqual(self.rule_exact.hit_count, 0)

    def test_keyword_priority(self):
        low = self.env["wechat.reply.rule"].create(
            {
                "account_id": self.account.id,
                "sequence": 5,
                "keyword": "课程表",
                "match_type": "contains",
                "reply_text": "timetable reply",
            }
        )
        reply = self.parse_reply(self.post_plain(self.text_xml("oTestPriority000001", "课程表")))
        self.assertEqual(reply["Content"], "timetable reply")
        self.assertEqual(low.hit_count, 1)
        self.assertEqual(self.rule_contains.hit_count, 0)

        low.sequence = 25
        reply = self.parse_reply(self.post_plain(self.text_xml("oTestPriority000002", "课程表")))
        self.assertEqual(reply["Content"], "contains reply")
        self.assertEqual(self.rule_contains.hit_count, 1)
        self.assertEqual(low.hit_count, 1)

    def test_archived_rule_ignored(self):
        self.rule_exact.active = False
        reply = self.parse_reply(self.post_plain(self.text_xml("oTestArchived000001", "menu")))

        self.assertEqual(reply["Content"], "We got your message")
        self.assertEqual(self.rule_exact.hit_count, 0)

    def test_default_reply(self):
        openid = "oTestDefaultReply001"
        reply = self.parse_reply(self.post_plain(self.text_xml(openid, "hello there")))

        self.assertEqual(reply["Content"], "We got your message")
        incoming = self.messages_of(openid).filtered(lambda m: m.direction == "in")
        self.assertFalse(incoming.reply_rule_id)
        self.assertEqual(incoming.reply_message_id.content, "We got your message")

    def test_no_default_reply_answers_success(self):
        self.account.default_reply = False
        openid = "oTestNoDefault000001"
        response = self.post_plain(self.text_xml(openid, "hello there"))

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "success")
        incoming = self.messages_of(openid)
        self.assertEqual(len(incoming), 1)
        self.assertFalse(incoming.reply_message_id)

    def test_reply_with_cdata_end(self):
        self.rule_exact.reply_text = "a ]]> b <tag> & c"
        reply = self.parse_reply(self.post_plain(self.text_xml("oTestCdata000000001", "menu")))

        self.assertEqual(reply["Content"], "a ]]> b <tag> & c")

    def test_image_message_default_reply(self):
        openid = "oTestImage0000000001"
        xml = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[image]]></MsgType>"
            "<PicUrl><![CDATA[http://127.0.0.1:9/pic.jpg]]></PicUrl>"
            "<MediaId><![CDATA[media_1]]></MediaId>"
            f"<MsgId>{self.next_msg_id()}</MsgId></xml>"
        )
        reply = self.parse_reply(self.post_plain(xml))

        self.assertEqual(reply["Content"], "We got your message")
        incoming = self.messages_of(openid).filtered(lambda m: m.direction == "in")
        self.assertEqual(incoming.msg_type, "image")
        self.assertEqual(self.fan_of(openid).fan_interaction_ids.name, "[image]")

    # ------------------------------------------------------------
    # RETRIES
    # ------------------------------------------------------------

    def test_duplicate_msgid_processed_once(self):
        openid = "oTestDuplicate000001"
        xml = self.text_xml(openid, "menu", msg_id=7000000000000000001)
        first = self.parse_reply(self.post_plain(xml))
        second = self.parse_reply(self.post_plain(xml))

        self.assertEqual(first["Content"], "exact reply")
        self.assertEqual(second["Content"], "exact reply", "a retry gets the same reply")
        self.assertEqual(self.rule_exact.hit_count, 1)
        messages = self.messages_of(openid)
        self.assertEqual(len(messages.filtered(lambda m: m.direction == "in")), 1)
        self.assertEqual(len(messages.filtered(lambda m: m.direction == "out")), 1)
        self.assertEqual(len(self.fan_of(openid).fan_interaction_ids), 1)

    def test_duplicate_event_processed_once(self):
        openid = "oTestDuplicateEvent1"
        xml = self.event_xml(openid, "subscribe", create_time=int(time.time()))
        first = self.parse_reply(self.post_plain(xml))
        second = self.parse_reply(self.post_plain(xml))

        self.assertEqual(first["Content"], "Welcome aboard")
        self.assertEqual(second["Content"], "Welcome aboard")
        fan = self.fan_of(openid)
        self.assertEqual(len(fan.fan_consent_ids), 1)
        self.assertEqual(len(fan.fan_interaction_ids), 1)
        self.assertEqual(len(self.messages_of(openid).filtered(lambda m: m.direction == "in")), 1)

    # ------------------------------------------------------------
    # REJECTED REQUESTS
    # ------------------------------------------------------------

    def test_bad_signature_rejected(self):
        openid = "oTestBadSignature001"
        response = self.post_plain(
            self.event_xml(openid, "subscribe"), signature=sign("wrongToken", "1", NONCE)
        )

        self.assertEqual(response.status_code, 403)
        self.assertNotIn("Traceback", response.text)
        self.assert_nothing_stored(openid)

    def test_missing_signature_rejected(self):
        openid = "oTestNoSignature0001"
        response = self.url_open(
            self.callback_path(self.account),
            data=self.text_xml(openid, "menu").encode(),
            headers={"Content-Type": "text/xml"},
        )

        self.assertEqual(response.status_code, 403)
        self.assert_nothing_stored(openid)

    def test_stale_timestamp_rejected(self):
        openid = "oTestStaleTimestamp1"
        stale = int(time.time()) - 301
        response = self.post_plain(self.text_xml(openid, "menu"), timestamp=stale)

        self.assertEqual(response.status_code, 403)
        self.assertIn("stale", response.text)
        self.assert_nothing_stored(openid)
        self.assertEqual(self.rule_exact.hit_count, 0)

    def test_doctype_rejected(self):
        openid = "oTestDoctype00000001"
        bodies = [
            '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "boom">]>'
            + self.text_xml(openid, "&x;"),
            '<!doctype xml SYSTEM "file:///etc/passwd">' + self.text_xml(openid, "menu"),
            "<xml><!ENTITY y 'z'></xml>",
        ]
        for body in bodies:
            with self.subTest(body=body[:40]):
                response = self.post_plain(None, body=body.encode())
                self.assertEqual(response.status_code, 400)
                self.assertNotIn("Traceback", response.text)
        self.assert_nothing_stored(openid)

    def test_oversize_rejected(self):
        openid = "oTestOversize0000001"
        body = self.text_xml(openid, "x" * (64 * 1024)).encode()
        response = self.post_plain(None, body=body)

        self.assertEqual(response.status_code, 413)
        self.assertNotIn("Traceback", response.text)
        self.assert_nothing_stored(openid)

    def test_malformed_xml_rejected(self):
        openid = "oTestMalformed000001"
        bodies = [
            f"<xml><FromUserName>{openid}</FromUserName><MsgType>text",
            "not xml at all",
            "<other><MsgType>text</MsgType></other>",
            f"<xml><FromUserName>{openid}</FromUserName></xml>",
            f"<xml><FromUserName>{openid}</FromUserName><CreateTime>soon</CreateTime>"
            "<MsgType>text</MsgType></xml>",
            b"\xff\xfe<\x00x\x00m\x00l\x00>\x00",
            f"<xml><FromUserName>{openid}</FromUserName><CreateTime>99999999999999999</CreateTime>"
            "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",
            f"<xml><FromUserName>{openid}</FromUserName><CreateTime>1700000000</CreateTime>"
            "<MsgType><a>1</a></MsgType></xml>",
            f"<xml><FromUserName>{openid}</FromUserName><CreateTime>1700000000</CreateTime>"
            "<MsgType>text</MsgType><Content>hi</Content><MsgId><a>1</a></MsgId></xml>",
            f"<xml><FromUserName>{openid}</FromUserName><CreateTime>1700000000</CreateTime>"
            "<MsgType>text</MsgType><Content>hi</Content><MsgId>abc</MsgId></xml>",
        ]
        for body in bodies:
            with self.subTest(body=body[:40]):
                data = body if isinstance(body, bytes) else body.encode()
                response = self.post_plain(None, body=data)
                self.assertEqual(response.status_code, 400)
                self.assertNotIn("Traceback", response.text)
        self.assert_nothing_stored(openid)

    def test_template_job_result_logged(self):
        openid = "oTestTemplateJob0001"
        xml = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
            "<MsgID>200163836</MsgID>"
            "<Status><![CDATA[failed:user block]]></Status></xml>"
        )

        response = self.post_plain(xml)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "success")
        logged = self.messages_of(openid)
        self.assertEqual(len(logged), 1)
        self.assertEqual(logged.event, "templatesendjobfinish")
        self.assertEqual(logged.content, "failed:user block")

    def test_archived_account_not_found(self):
        self.account.active = False
        response = self.post_plain(self.text_xml("oTestArchived000001", "hi"))
        self.assertEqual(response.status_code, 404)
        self.assert_nothing_stored("oTestArchived000001")

    def test_unknown_account_not_found(self):
        response = self.url_open(
            "/wechat/callback/999999",
            data=self.text_xml("oTestUnknownAccount1", "menu").encode(),
            headers={"Content-Type": "text/xml"},
        )
        self.assertEqual(response.status_code, 404)

    # ------------------------------------------------------------
    # URL CHECK
    # ------------------------------------------------------------

    def test_get_echostr(self):
        timestamp = str(int(time.time()))
        params = {
            "signature": sign(PLAIN_TOKEN, timestamp, NONCE),
            "timestamp": timestamp,
            "nonce": NONCE,
            "echostr": "7418529630",
        }
        response = self.url_open(self.callback_path(self.account), params=params)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "7418529630")

        params["signature"] = sign("wrongToken", timestamp, NONCE)
        response = self.url_open(self.callback_path(self.account), params=params)
        self.assertEqual(response.status_code, 403)
        self.assertNotIn("7418529630", response.text)
