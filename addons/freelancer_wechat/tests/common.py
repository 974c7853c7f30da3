import time
from unittest.mock import patch

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from odoo.tests import HttpCase, TransactionCase

from .fake_wechat_api import FakeWechatApi

PLAIN_TOKEN = "plainToken123"
SAFE_TOKEN = "safeToken456"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
NONCE = "nonce4711"


def sign(*values):
    """Return the SHA-1 signature WeChat computes over the sorted values."""
    signer = WeChatSigner()
    signer.add_data(*values)
    return signer.signature


class WechatApiCase(TransactionCase):
    """Run the WeChat API code against a fake API server on 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The token lock and the API state use a separate cursor. In test mode that
        # cursor wraps the test transaction, so it reads the records created here.
        cls.registry_enter_test_mode_cls()
        cls.fake_api = FakeWechatApi(app_id="wxtestapi00000001", secret="api-secret")
        cls.fake_api.start()
        cls.addClassCleanup(cls.fake_api.stop)
        cls.api_account = cls.env["wechat.account"].create(
            {
                "name": "API Account",
                "app_id": "wxtestapi00000001",
                "app_secret": "api-secret",
                "account_type": "service",
                "is_verified": True,
                "api_base_url": cls.fake_api.base_url,
            }
        )

    def setUp(self):
        super().setUp()
        # Progress commits of the follower sync become no-ops inside the test transaction.
        patcher = patch.object(type(self.env["ir.cron"]), "_commit_progress", _no_commit)
        patcher.start()
        self.addCleanup(patcher.stop)


def _no_commit(self, *_args, **_kwargs):
    self.env.flush_all()
    return float("inf")


class WechatCallbackCase(HttpCase):
    """Post signed WeChat pushes to the real callback route over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["wechat.account"].create(
            {
                "name": "Test Plain Account",
                "app_id": "wxtest0000plain01",
                "token": PLAIN_TOKEN,
                "message_mode": "plain",
                "api_base_url": "http://127.0.0.1:9/",
                "welcome_reply": "Welcome aboard",
                "default_reply": "We got your message",
            }
        )
        cls.safe_account = cls.env["wechat.account"].create(
            {
                "name": "Test Safe Account",
                "app_id": "wxtest00000safe01",
                "token": SAFE_TOKEN,
                "encoding_aes_key": AES_KEY,
                "message_mode": "safe",
                "api_base_url": "http://127.0.0.1:9/",
                "welcome_reply": "Encrypted welcome",
                "default_reply": "Encrypted default",
            }
        )
        cls.msg_id_counter = 6000000000000000000

    # ------------------------------------------------------------
    # BUILDING PUSHES
    # ------------------------------------------------------------

    def next_msg_id(self):
        type(self).msg_id_counter += 1
        return self.msg_id_counter

    def text_xml(self, openid, content, msg_id=None, create_time=None):
        return (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id or self.next_msg_id()}</MsgId></xml>"
        )

    def event_xml(self, openid, event, event_key=None, create_time=None):
        key = f"<EventKey><![CDATA[{event_key}]]></EventKey>" if event_key is not None else ""
        return (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{key}</xml>"
        )

    # ------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------

    def callback_path(self, account):
        return f"/wechat/callback/{account.id}"

    def post_plain(
        self, xml, account=None, timestamp=None, signature=None, body=None, headers=None
    ):
        """POST ``xml`` signed with the account's token, as WeChat does in plain mode."""
        account = account or self.account
        timestamp = str(timestamp or int(time.time()))
        params = {
            "signature": signature or sign(PLAIN_TOKEN, timestamp, NONCE),
            "timestamp": timestamp,
            "nonce": NONCE,
            "openid": "ignored",
        }
        data = body if body is not None else xml.encode("utf-8")
        response = self.url_open(
            self.callback_path(account),
            data=data,
            params=params,
            headers={"Content-Type": "text/xml", **(headers or {})},
        )
        # The request wrote through its own environment: drop this one's cache.
        self.env.invalidate_all()
        return response

    def post_safe(self, xml, timestamp=None, msg_signature=None):
        """POST ``xml`` encrypted and signed with the safe account's key and token."""
        timestamp = str(timestamp or int(time.time()))
        crypto = WeChatCrypto(SAFE_TOKEN, AES_KEY, self.safe_account.app_id)
        envelope = crypto.encrypt_message(xml, NONCE, timestamp)
        fields = xmltodict.parse(envelope)["xml"]
        params = {
            "signature": sign(SAFE_TOKEN, timestamp, NONCE),
            "timestamp": timestamp,
            "nonce": NONCE,
            "encrypt_type": "aes",
            "msg_signature": msg_signature or fields["MsgSignature"],
        }
        body = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName>"
            f"<Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>"
        )
        response = self.url_open(
            self.callback_path(self.safe_account),
            data=body.encode("utf-8"),
            params=params,
            headers={"Content-Type": "text/xml"},
        )
        self.env.invalidate_all()
        return response

    # ------------------------------------------------------------
    # READING REPLIES AND RECORDS
    # ------------------------------------------------------------

    def parse_reply(self, response):
        """Return the reply XML of a plain-mode response as a dict."""
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn("xml", response.headers["Content-Type"])
        return xmltodict.parse(response.text)["xml"]

    def decrypt_reply(self, response):
        """Check the signature of an encrypted reply and return its XML as a dict."""
        self.assertEqual(response.status_code, 200, response.text)
        envelope = xmltodict.parse(response.text)["xml"]
        crypto = WeChatCrypto(SAFE_TOKEN, AES_KEY, self.safe_account.app_id)
        xml = crypto.decrypt_message(
            response.text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )
        return xmltodict.parse(xml)["xml"]

    def messages_of(self, openid, account=None):
        return self.env["wechat.message"].search(
            [("account_id", "=", (account or self.account).id), ("openid", "=", openid)]
        )

    def fan_of(self, openid, account=None):
        return self.env["res.partner"]._fan_find(
            {"wechat_openid": openid}, account_key=(account or self.account).app_id
        )
