import time

from odoo.tests import tagged

from .common import WechatCallbackCase

# Bodies of every message and event type an Official Account receives, in the
# platform's XML format (普通消息 and 事件推送 of WeChat's documentation). Each
# value is the part after MsgType; {msg_id} is replaced by a new MsgId.
USER_MESSAGES = {
    "text": "<Content><![CDATA[你好]]></Content><MsgId>{msg_id}</MsgId>",
    "image": (
        "<PicUrl><![CDATA[http://127.0.0.1:9/pic.jpg]]></PicUrl>"
        "<MediaId><![CDATA[media_image]]></MediaId><MsgId>{msg_id}</MsgId>"
    ),
    "voice": (
        "<MediaId><![CDATA[media_voice]]></MediaId><Format><![CDATA[amr]]></Format>"
        "<Recognition><![CDATA[你好]]></Recognition><MsgId>{msg_id}</MsgId>"
    ),
    "video": (
        "<MediaId><![CDATA[media_video]]></MediaId>"
        "<ThumbMediaId><![CDATA[media_thumb]]></ThumbMediaId><MsgId>{msg_id}</MsgId>"
    ),
    "shortvideo": (
        "<MediaId><![CDATA[media_short]]></MediaId>"
        "<ThumbMediaId><![CDATA[media_thumb]]></ThumbMediaId><MsgId>{msg_id}</MsgId>"
    ),
    "location": (
        "<Location_X>31.230416</Location_X><Location_Y>121.473701</Location_Y>"
        "<Scale>15</Scale><Label><![CDATA[上海市黄浦区]]></Label><MsgId>{msg_id}</MsgId>"
    ),
    "link": (
        "<Title><![CDATA[陶艺课]]></Title><Description><![CDATA[周二晚上]]></Description>"
        "<Url><![CDATA[http://127.0.0.1:9/class]]></Url><MsgId>{msg_id}</MsgId>"
    ),
}

# (Event value, extra elements, reply expected)
EVENTS = [
    ("subscribe", "", True),
    ("subscribe", "<EventKey><![CDATA[qrscene_展会]]></EventKey><Ticket>TICKET</Ticket>", True),
    ("SCAN", "<EventKey><![CDATA[展会]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>", False),
    (
        "LOCATION",
        "<Latitude>31.230416</Latitude><Longitude>121.473701</Longitude>"
        "<Precision>65.000000</Precision>",
        False,
    ),
    ("CLICK", "<EventKey><![CDATA[MENU_CLASSES]]></EventKey>", False),
    ("VIEW", "<EventKey><![CDATA[http://127.0.0.1:9/shop]]></EventKey>", False),
    (
        "scancode_push",
        "<EventKey><![CDATA[SCAN_KEY]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]>"
        "</ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>",
        False,
    ),
    (
        "pic_sysphoto",
        "<EventKey><![CDATA[PHOTO_KEY]]></EventKey><SendPicsInfo><Count>1</Count><PicList>"
        "<item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum></item>"
        "</PicList></SendPicsInfo>",
        False,
    ),
    (
        "location_select",
        "<EventKey><![CDATA[LOCATION_KEY]]></EventKey><SendLocationInfo><Location_X><![CDATA[23]]>"
        "</Location_X><Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale>"
        "<Label><![CDATA[广州市]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>",
        False,
    ),
    (
        "MASSSENDJOBFINISH",
        "<MsgID>1000001625</MsgID><Status><![CDATA[send success]]></Status>"
        "<TotalCount>100</TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount>"
        "<ErrorCount>5</ErrorCount><CopyrightCheckResult><Count>0</Count><ResultList/>"
        "<CheckState>1</CheckState></CopyrightCheckResult><ArticleUrlResult><Count>1</Count>"
        "<ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[http://127.0.0.1:9/a]]>"
        "</ArticleUrl></item></ResultList></ArticleUrlResult>",
        False,
    ),
    (
        "TEMPLATESENDJOBFINISH",
        "<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>",
        False,
    ),
    ("unsubscribe", "", False),
]


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestMessageTypes(WechatCallbackCase):
    """Every message and event type goes through the real callback and is logged."""

    def envelope(self, openid, msg_type, body):
        return (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{body}</xml>"
        )

    def test_every_user_message_type(self):
        for index, (msg_type, body) in enumerate(USER_MESSAGES.items()):
            openid = f"oTestMessageType{index:04d}"
            with self.subTest(msg_type=msg_type):
                xml = self.envelope(openid, msg_type, body.format(msg_id=self.next_msg_id()))

                response = self.post_plain(xml)

                reply = self.parse_reply(response)
                self.assertEqual(reply["Content"], "We got your message")
                logged = self.messages_of(openid).filtered(lambda m: m.direction == "in")
                self.assertEqual(logged.msg_type, msg_type)
                self.assertEqual(logged.partner_id, self.fan_of(openid))
                interactions = logged.partner_id.fan_interaction_ids
                self.assertEqual(interactions.mapped("interaction_type"), ["wechat_message"])

    def test_every_event_type(self):
        openid = "oTestEventTypes00001"
        for event, extra, replies in EVENTS:
            with self.subTest(event=event, extra=extra[:20]):
                xml = self.envelope(openid, "event", f"<Event><![CDATA[{event}]]></Event>{extra}")

                response = self.post_plain(xml)

                self.assertEqual(response.status_code, 200, response.text)
                if replies:
                    self.assertEqual(self.parse_reply(response)["Content"], "Welcome aboard")
                else:
                    self.assertEqual(response.text, "success")
        logged = self.messages_of(openid).filtered(lambda m: m.direction == "in")
        self.assertEqual(len(logged), len(EVENTS))
        self.assertEqual(
            set(logged.mapped("event")),
            {
                "subscribe",
                "subscribe_scan",
                "scan",
                "location",
                "click",
                "view",
                "scancode_push",
                "pic_sysphoto",
                "location_select",
                "masssendjobfinish",
                "templatesendjobfinish",
                "unsubscribe",
            },
        )
        fan = self.fan_of(openid)
        self.assertEqual(fan.consent_wechat, "withdrawn")
        self.assertEqual(fan.wechat_scene, "展会")
