import re
import urllib.parse
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CONFIRM_URL_RE = re.compile(r'href="([^"]*/fans/subscribe/confirm\?[^"]+)"')


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanOptin(HttpCase):
    email = "new.fan@example.com"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The pages follow the browser's language; the checks read English, which a
        # database created with Chinese as its only language has inactive.
        cls.env["res.lang"]._activate_lang("en_US")

    def url_open(self, url, *args, headers=None, **kwargs):
        headers = dict(headers or {}, **{"Accept-Language": "en-US,en;q=0.9"})
        return super().url_open(url, *args, headers=headers, **kwargs)

    def _csrf(self, path="/fans/subscribe"):
        response = self.url_open(path)
        self.assertEqual(response.status_code, 200)
        return CSRF_RE.search(response.text).group(1)

    def _subscribe(self, email=None, name="林晓", mobile="", **extra):
        data = {
            "csrf_token": self._csrf(),
            "name": name,
            "email": email or self.email,
            "mobile": mobile,
        }
        data.update(extra)
        return self.url_open("/fans/subscribe", data=data, headers={"User-Agent": "OptinTest/1.0"})

    def _ledger(self, partner, action):
        return self.env["fan.consent"].search(
            [("partner_id", "=", partner.id), ("channel", "=", "email"), ("action", "=", action)]
        )

    def _confirm_link(self, optin):
        mail = self.env["mail.mail"].search(
            [("email_to", "=", optin.email)], order="id desc", limit=1
        )
        url = CONFIRM_URL_RE.search(mail.body_html).group(1).replace("&amp;", "&")
        parsed = urllib.parse.urlsplit(url)
        return f"{parsed.path}?{parsed.query}", dict(urllib.parse.parse_qsl(parsed.query))

    def _post_confirm(self, params):
        # The CSRF token belongs to the session, so the form page's token works here.
        data = dict(params, csrf_token=self._csrf())
        return self.url_open("/fans/subscribe/confirm", data=data)

    def test_form_page_renders(self):
        response = self.url_open("/fans/subscribe?lang=en_US")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Subscribe to our newsletter", response.text)
        self.assertIn('name="csrf_token"', response.text)

    def test_post_without_csrf_rejected(self):
        response = self.url_open("/fans/subscribe", data={"name": "x", "email": self.email})
        self.assertIn(response.status_code, (400, 403))
        self.assertFalse(self.env["fan.optin.request"].search([("email", "=", self.email)]))

    def test_invalid_email_shows_form(self):
        response = self._subscribe(email="not-an-email")
        self.assertEqual(response.status_code, 400)
        self.assertIn("is-invalid", response.text)
        self.assertFalse(self.env["fan.optin.request"].search([]))

    def test_request_records_evidence_and_sends_link(self):
        response = self._subscribe(mobile="13800138009")
        self.assertEqual(response.status_code, 200)
        optin = self.env["fan.optin.request"].search([("email", "=", self.email)])
        self.assertEqual(len(optin), 1)
        self.assertEqual(optin.state, "pending")
        partner = optin.partner_id
        self.assertTrue(partner.is_fan)
        self.assertEqual(partner.email_normalized, self.email)
        self.assertEqual(partner.consent_email, "pending")
        entry = self._ledger(partner, "request")
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.source, "web_form")
        self.assertEqual(entry.ip_address, "127.0.0.1")
        self.assertEqual(entry.user_agent, "OptinTest/1.0")
        self.assertIn("/fans/subscribe", entry.proof)
        mail = self.env["mail.mail"].search([("email_to", "=", self.email)])
        self.assertEqual(len(mail), 1)
        self.assertIn("/fans/subscribe/confirm?", mail.body_html)
        # A second submission while the first is pending sends nothing new.
        self._subscribe()
        self.assertEqual(len(self.env["fan.optin.request"].search([("email", "=", self.email)])), 1)
        self.assertEqual(len(self.env["mail.mail"].search([("email_to", "=", self.email)])), 1)

    def test_confirm_grants_once(self):
        self._subscribe()
        optin = self.env["fan.optin.request"].search([("email", "=", self.email)])
        path, params = self._confirm_link(optin)
        # GET only shows the button: link scanners must not confirm.
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Confirm subscription", page.text)
        self.assertFalse(self._ledger(optin.partner_id, "grant"))

        response = self._post_confirm(params)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Subscription confirmed", response.text)
        grant = self._ledger(optin.partner_id, "grant")
        self.assertEqual(len(grant), 1)
        self.assertEqual(grant.source, "double_optin")
        self.assertEqual(grant.res_model, "fan.optin.request")
        self.assertEqual(grant.res_id, optin.id)
        self.assertIn("/fans/subscribe", grant.proof)
        self.assertEqual(optin.state, "confirmed")
        self.assertEqual(optin.partner_id.consent_email, "granted")

        again = self._post_confirm(params)
        self.assertIn("Already confirmed", again.text)
        self.assertEqual(len(self._ledger(optin.partner_id, "grant")), 1)

    def test_tampered_link_rejected(self):
        self._subscribe()
        optin = self.env["fan.optin.request"].search([("email", "=", self.email)])
        _path, params = self._confirm_link(optin)
        for key, value in (
            ("token", "0" * 64),
            ("expiry", str(int(params["expiry"]) + 86400)),
            ("request_id", str(optin.id + 1)),
        ):
            bad = dict(params, **{key: value})
            page = self.url_open("/fans/subscribe/confirm?" + urllib.parse.urlencode(bad))
            self.assertEqual(page.status_code, 403, key)
            self.assertIn("Invalid confirmation link", page.text)
            response = self.url_open(
                "/fans/subscribe/confirm", data=dict(bad, csrf_token=self._csrf())
            )
            self.assertEqual(response.status_code, 403, key)
        self.assertFalse(self._ledger(optin.partner_id, "grant"))

    def test_expired_link_rejected(self):
        self._subscribe()
        optin = self.env["fan.optin.request"].search([("email", "=", self.email)])
        path, params = self._confirm_link(optin)
        # The signature covers the expiry, so move the clock instead of the date.
        with freeze_time(fields.Datetime.add(optin.expire_date, minutes=1)):
            page = self.url_open(path)
            self.assertEqual(page.status_code, 410)
            self.assertIn("Confirmation link expired", page.text)
            response = self.url_open(
                "/fans/subscribe/confirm", data=dict(params, csrf_token=self._csrf())
            )
        self.assertEqual(response.status_code, 410)
        self.assertFalse(self._ledger(optin.partner_id, "grant"))

    def test_rate_limit_per_ip(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "freelancer_mass_mail.optin_rate_limit_per_hour", 2
        )
        for index in range(2):
            self.assertEqual(self._subscribe(email=f"fan{index}@example.com").status_code, 200)
        response = self._subscribe(email="fan9@example.com")
        self.assertEqual(response.status_code, 429)
        self.assertFalse(self.env["fan.optin.request"].search([("email", "=", "fan9@example.com")]))

    def test_mobile_match_not_reused(self):
        other = self.env["res.partner"].create(
            {
                "name": "别人",
                "email": "other@example.com",
                "phone": "+8613800138009",
                "is_fan": True,
            }
        )
        self._subscribe(mobile="+8613800138009")
        optin = self.env["fan.optin.request"].search([("email", "=", self.email)])
        self.assertNotEqual(optin.partner_id, other)
        self.assertEqual(optin.partner_id.email_normalized, self.email)
        self.assertEqual(other.consent_email, "none")

    def test_already_granted_sends_nothing(self):
        partner = self.env["res.partner"].create(
            {"name": "老朋友", "email": self.email, "is_fan": True}
        )
        partner._fan_record_consent("email", "grant", "manual")
        response = self._subscribe()
        self.assertEqual(response.status_code, 200)
        self.assertIn("Check your inbox", response.text)
        self.assertFalse(self.env["fan.optin.request"].search([("email", "=", self.email)]))
        self.assertFalse(self.env["mail.mail"].search([("email_to", "=", self.email)]))

    def test_invalid_fields_show_errors(self):
        cases = [
            ({"email": "a" * 5000 + "@example.com"}, "email", "at most 254 characters"),
            ({"email": "not-an-email"}, "email", "valid email address"),
            ({"email": "a@example.com, b@example.com"}, "email", "valid email address"),
            ({"mobile": "1" * 100000}, "mobile", "valid mobile number"),
            ({"mobile": "abc"}, "mobile", "valid mobile number"),
            ({"mobile": "010-12345678"}, "mobile", "valid mobile number"),
            ({"name": "名" * 129}, "name", "at most 128 characters"),
        ]
        partner_count = self.env["res.partner"].search_count([])
        for values, field, message in cases:
            with self.subTest(values={k: v[:40] for k, v in values.items()}):
                response = self._subscribe(**values)
                self.assertEqual(response.status_code, 400)
                self.assertIn(f'id="fan_optin_{field}"', response.text)
                self.assertIn(message, response.text)
                self.assertNotIn("Check your inbox", response.text)
        self.assertFalse(self.env["fan.optin.request"].search([]))
        self.assertEqual(self.env["res.partner"].search_count([]), partner_count)

    def test_invalid_mobile_chinese_error(self):
        data = {"csrf_token": self._csrf(), "name": "林晓", "email": self.email, "mobile": "abc"}
        response = self.url_open(
            "/fans/subscribe", data=dict(data, lang="zh_CN"), headers={"User-Agent": "T/1"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("请输入有效的手机号码", response.text)

    def test_valid_mobile_stored_e164(self):
        response = self._subscribe(mobile="138 0013 8009")
        self.assertEqual(response.status_code, 200)
        optin = self.env["fan.optin.request"].search([("email", "=", self.email)])
        self.assertEqual(optin.mobile, "+8613800138009")

    def test_queue_failure_not_reported_sent(self):
        def fail(optins, reminder=False):
            raise UserError(optins.env._("Mail queue unavailable"))

        with patch.object(type(self.env["fan.optin.request"]), "_send_confirmation_email", fail):
            response = self._subscribe()
        self.assertEqual(response.status_code, 500)
        self.assertIn("Confirmation email not sent", response.text)
        self.assertNotIn("Check your inbox", response.text)
        self.assertFalse(self.env["fan.optin.request"].search([("email", "=", self.email)]))


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanOptinCron(HttpCase):
    def _make_request(self, email, days_ago):
        request_date = fields.Datetime.subtract(fields.Datetime.now(), days=days_ago)
        with freeze_time(request_date):
            return self.env["fan.optin.request"]._create_from_form(
                "测试",
                email,
                False,
                "127.0.0.1",
                "test",
                "http://127.0.0.1/fans/subscribe",
                "en_US",
            )

    def test_reminder_once_then_expiry(self):
        recent = self._make_request("recent@example.com", days_ago=1)
        stale = self._make_request("stale@example.com", days_ago=3)
        Optin = self.env["fan.optin.request"]
        Optin._cron_process_pending()
        self.assertFalse(recent.reminder_date)
        self.assertTrue(stale.reminder_date)
        reminders = self.env["mail.mail"].search(
            [("email_to", "=", "stale@example.com"), ("subject", "ilike", "Reminder")]
        )
        self.assertEqual(len(reminders), 1)
        Optin._cron_process_pending()
        reminders = self.env["mail.mail"].search(
            [("email_to", "=", "stale@example.com"), ("subject", "ilike", "Reminder")]
        )
        self.assertEqual(len(reminders), 1, "a request gets one reminder only")

        with freeze_time(fields.Datetime.add(recent.expire_date, minutes=1)):
            Optin._cron_process_pending()
        self.assertEqual(stale.state, "expired")
        self.assertEqual(recent.state, "expired")
        withdraw = self.env["fan.consent"].search(
            [("partner_id", "=", stale.partner_id.id), ("action", "=", "withdraw")]
        )
        self.assertEqual(len(withdraw), 1)
        self.assertEqual(withdraw.source, "double_optin")
        self.assertEqual(stale.partner_id.consent_email, "withdrawn")
