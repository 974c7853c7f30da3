import urllib.parse

from odoo.tests import HttpCase, tagged

from .common import FanMassMailCommon
from .test_unsubscribe import ONECLICK_BODY

ZH_VISITOR = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN_VISITOR = {"Accept-Language": "en-US,en;q=0.9"}
# Headings of the invalid-link page, in English and as translated in zh_CN.po.
INVALID_EN = "This link is not valid"
INVALID_ZH = "此链接无效"
INCOMPLETE_EN = "This link is incomplete"
INCOMPLETE_ZH = "此链接不完整"


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanInvalidLink(FanMassMailCommon, HttpCase):
    """Tampered or incomplete unsubscribe and preference links, over HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test database may have Chinese as its only language.
        cls.env["res.lang"]._activate_lang("en_US")
        cls.mailing = cls._create_fan_mailing()
        cls.email = cls.fan_granted.email_normalized

    def _query(self, **params):
        values = {"document_id": self.fan_granted.id, "email": self.email}
        values.update(params)
        return urllib.parse.urlencode(values)

    def _get_links(self, mailing_id, query):
        return [
            f"/mailing/{mailing_id}/unsubscribe?{query}",
            f"/mailing/{mailing_id}/confirm_unsubscribe?{query}",
            f"/mailing/{mailing_id}/fan_preferences?{query}",
        ]

    def _csrf_token(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        page = self.url_open(
            f"/mailing/{self.mailing.id}/confirm_unsubscribe?{self._query(hash_token=token)}"
        )
        return page.text.split('name="csrf_token" value="')[1].split('"')[0]

    def _assert_unchanged(self):
        self.assertEqual(self.fan_granted.consent_email, "granted")
        self.assertFalse(self.env["mail.blacklist"].search([("email", "=", self.email)]))

    def test_tampered_link_chinese_visitor(self):
        query = self._query(hash_token="0" * 64)
        for url in self._get_links(self.mailing.id, query):
            with self.subTest(url=url):
                response = self.url_open(url, headers=ZH_VISITOR)
                self.assertEqual(response.status_code, 403)
                self.assertIn("text/html", response.headers["Content-Type"])
                self.assertIn(INVALID_ZH, response.text)
                self.assertNotIn(INVALID_EN, response.text)
                self.assertNotIn("Unauthorized", response.text)

        oneclick = f"/mailing/{self.mailing.id}/unsubscribe_oneclick?{query}"
        response = self.url_open(oneclick, data=ONECLICK_BODY, headers=ZH_VISITOR)
        self.assertEqual(response.status_code, 403)
        self.assertIn(INVALID_ZH, response.text)

        response = self.url_open(
            "/mailing/confirm_unsubscribe",
            data={
                "csrf_token": self._csrf_token(),
                "mailing_id": self.mailing.id,
                "document_id": self.fan_granted.id,
                "email": self.email,
                "hash_token": "0" * 64,
            },
            headers=ZH_VISITOR,
        )
        self.assertEqual(response.status_code, 403)
        self.assertIn(INVALID_ZH, response.text)
        self._assert_unchanged()

    def test_tampered_link_english_visitor(self):
        # The token of another fan: valid in form, wrong for this address.
        token = self.mailing._generate_mailing_recipient_token(
            self.fan_granted_2.id, self.fan_granted_2.email_normalized
        )
        for url in self._get_links(self.mailing.id, self._query(hash_token=token)):
            with self.subTest(url=url):
                response = self.url_open(url, headers=EN_VISITOR)
                self.assertEqual(response.status_code, 403)
                self.assertIn(INVALID_EN, response.text)
                self.assertNotIn(INVALID_ZH, response.text)
        self._assert_unchanged()

    def test_unknown_mailing_same_as_tampered(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        missing_id = self.mailing.id + 100000
        for url in self._get_links(missing_id, self._query(hash_token=token)):
            with self.subTest(url=url):
                response = self.url_open(url, headers=ZH_VISITOR)
                self.assertEqual(response.status_code, 403)
                self.assertIn(INVALID_ZH, response.text)

    def test_incomplete_link(self):
        # A public visitor without the token.
        for url in self._get_links(self.mailing.id, self._query()):
            with self.subTest(url=url):
                response = self.url_open(url, headers=ZH_VISITOR)
                self.assertEqual(response.status_code, 400)
                self.assertIn(INCOMPLETE_ZH, response.text)
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        query = self._query(document_id="abc", hash_token=token)
        url = f"/mailing/{self.mailing.id}/fan_preferences?{query}"
        response = self.url_open(url, headers=EN_VISITOR)
        self.assertEqual(response.status_code, 400)
        self.assertIn(INCOMPLETE_EN, response.text)
        self._assert_unchanged()

    def test_valid_link_still_works(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        for url in self._get_links(self.mailing.id, self._query(hash_token=token)):
            with self.subTest(url=url):
                response = self.url_open(url, headers=ZH_VISITOR)
                self.assertEqual(response.status_code, 200)
                self.assertNotIn(INVALID_ZH, response.text)
        self._assert_unchanged()

    def test_non_numeric_ids_incomplete(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        for document_id in ("abc", "1.5", "-3", "²"):
            query = self._query(document_id=document_id, hash_token=token)
            for url in self._get_links(self.mailing.id, query):
                with self.subTest(url=url):
                    response = self.url_open(url, headers=ZH_VISITOR)
                    self.assertEqual(response.status_code, 400)
                    self.assertIn(INCOMPLETE_ZH, response.text)
            oneclick = f"/mailing/{self.mailing.id}/unsubscribe_oneclick?{query}"
            response = self.url_open(oneclick, data=ONECLICK_BODY, headers=ZH_VISITOR)
            self.assertEqual(response.status_code, 400, document_id)
            self.assertIn(INCOMPLETE_ZH, response.text)

        csrf_token = self._csrf_token()
        post_cases = [
            {"mailing_id": self.mailing.id, "document_id": "abc"},
            {"mailing_id": "abc", "document_id": self.fan_granted.id},
            {"document_id": self.fan_granted.id},
        ]
        for case in post_cases:
            with self.subTest(case=case):
                data = dict(case, csrf_token=csrf_token, email=self.email, hash_token=token)
                response = self.url_open(
                    "/mailing/confirm_unsubscribe", data=data, headers=ZH_VISITOR
                )
                self.assertEqual(response.status_code, 400)
                self.assertIn(INCOMPLETE_ZH, response.text)
        self._assert_unchanged()

    def test_missing_params_incomplete(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        queries = [
            urllib.parse.urlencode({"email": self.email, "hash_token": token}),
            urllib.parse.urlencode({"document_id": self.fan_granted.id, "hash_token": token}),
            "",
        ]
        for query in queries:
            for url in self._get_links(self.mailing.id, query):
                with self.subTest(url=url):
                    response = self.url_open(url, headers=ZH_VISITOR)
                    self.assertEqual(response.status_code, 400)
                    self.assertIn(INCOMPLETE_ZH, response.text)
        self._assert_unchanged()

    def test_out_of_range_mailing_id(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        query = self._query(hash_token=token)
        for url in self._get_links(2**31, query):
            with self.subTest(url=url):
                response = self.url_open(url, headers=ZH_VISITOR)
                self.assertEqual(response.status_code, 403)
                self.assertIn(INVALID_ZH, response.text)
        response = self.url_open(
            f"/sms/{2**40}/unsubscribe/abc", headers=ZH_VISITOR, allow_redirects=False
        )
        self.assertLess(response.status_code, 500)
        self._assert_unchanged()

    def test_blocklist_add_rejects_non_numeric_ids(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        cases = [
            ({"mailing_id": self.mailing.id, "document_id": "abc"}, "error"),
            ({"mailing_id": "abc", "document_id": self.fan_granted.id}, "error"),
            ({"mailing_id": 2**40, "document_id": self.fan_granted.id}, "unauthorized"),
        ]
        for params, expected in cases:
            with self.subTest(params=params):
                result = self.make_jsonrpc_request(
                    "/mailing/blocklist/add",
                    dict(params, email=self.email, hash_token=token),
                )
                self.assertEqual(result, expected)
        self._assert_unchanged()
