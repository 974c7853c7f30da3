import base64
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from odoo.tests import tagged

from .common import AES_KEY, NONCE, SAFE_TOKEN, WechatCallbackCase, sign


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestCallbackSafe(WechatCallbackCase):
    def test_safe_subscribe_encrypted_welcome(self):
        openid = "oTestSafeSubscribe01"
        response = self.post_safe(self.event_xml(openid, "subscribe"))

        self.assertIn("xml", response.headers["Content-Type"])
        self.assertNotIn("Encrypted welcome", response.text, "the reply must be encrypted")
        reply = self.decrypt_reply(response)
        self.assertEqual(reply["Content"], "Encrypted welcome")
        self.assertEqual(reply["ToUserName"], openid)

        fan = self.fan_of(openid, self.safe_account)
        self.assertEqual(len(fan), 1)
        self.assertEqual(fan.consent_wechat, "granted")
        identity = fan.fan_identity_ids
        self.assertEqual(identity.account_key, self.safe_account.app_id)
        incoming = self.messages_of(openid, self.safe_account).filtered(
            lambda m: m.direction == "in"
        )
        self.assertEqual(incoming.event, "subscribe")
        self.assertIn(openid, incoming.raw_xml, "the decrypted XML is logged")

    def test_safe_keyword_reply(self):
        rule = self.env["wechat.reply.rule"].create(
            {
                "account_id": self.safe_account.id,
                "keyword": "木勺",
                "match_type": "contains",
                "reply_text": "加密的木勺回复",
            }
        )
        openid = "oTestSafeKeyword0001"
        reply = self.decrypt_reply(self.post_safe(self.text_xml(openid, "木勺怎么保养")))

        self.assertEqual(reply["Content"], "加密的木勺回复")
        self.assertEqual(rule.hit_count, 1)
        incoming = self.messages_of(openid, self.safe_account).filtered(
            lambda m: m.direction == "in"
        )
        self.assertEqual(incoming.content, "木勺怎么保养")

    def test_safe_default_reply(self):
        openid = "oTestSafeDefault0001"
        reply = self.decrypt_reply(self.post_safe(self.text_xml(openid, "随便聊聊")))

        self.assertEqual(reply["Content"], "Encrypted default")

    def test_safe_bad_msg_signature_rejected(self):
        openid = "oTestSafeBadSign0001"
        response = self.post_safe(
            self.text_xml(openid, "木勺"), msg_signature=sign("wrong", "1", "2", "3")
        )

        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.messages_of(openid, self.safe_account))
        self.assertFalse(self.fan_of(openid, self.safe_account))

    def test_safe_stale_timestamp_rejected(self):
        openid = "oTestSafeStale000001"
        response = self.post_safe(self.text_xml(openid, "木勺"), timestamp=int(time.time()) - 400)

        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.messages_of(openid, self.safe_account))

    def test_safe_mode_rejects_plain_message(self):
        openid = "oTestSafePlain000001"
        timestamp = str(int(time.time()))
        response = self.url_open(
            self.callback_path(self.safe_account),
            data=self.text_xml(openid, "木勺").encode(),
            params={
                "signature": sign(SAFE_TOKEN, timestamp, NONCE),
                "timestamp": timestamp,
                "nonce": NONCE,
            },
            headers={"Content-Type": "text/xml"},
        )

        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.messages_of(openid, self.safe_account))

    def post_ciphertext(self, encrypt):
        """POST ``encrypt`` as the Encrypt element, with a valid msg_signature for it."""
        timestamp = str(int(time.time()))
        return self.url_open(
            self.callback_path(self.safe_account),
            data=f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode(),
            params={
                "signature": sign(SAFE_TOKEN, timestamp, NONCE),
                "timestamp": timestamp,
                "nonce": NONCE,
                "encrypt_type": "aes",
                "msg_signature": sign(SAFE_TOKEN, timestamp, NONCE, encrypt),
            },
            headers={"Content-Type": "text/xml"},
        )

    def test_safe_garbage_ciphertext_rejected(self):
        response = self.post_ciphertext("bm90IHJlYWxseSBlbmNyeXB0ZWQ=")

        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Traceback", response.text)

    def test_safe_short_plaintext_rejected(self):
        # Encrypted with the account's key, but the decrypted text is all
        # padding, too short for its length prefix.
        key = base64.b64decode(AES_KEY + "=")
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        encrypt = base64.b64encode(encryptor.update(b"\x20" * 32) + encryptor.finalize()).decode()

        response = self.post_ciphertext(encrypt)

        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Traceback", response.text)

    def test_safe_get_echostr_uses_plain_signature(self):
        timestamp = str(int(time.time()))
        response = self.url_open(
            self.callback_path(self.safe_account),
            params={
                "signature": sign(SAFE_TOKEN, timestamp, NONCE),
                "timestamp": timestamp,
                "nonce": NONCE,
                "echostr": "safe-echo-123",
            },
        )

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "safe-echo-123")
