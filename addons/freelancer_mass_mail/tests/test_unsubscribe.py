from odoo.tests import HttpCase, tagged

from .common import FanMassMailCommon

# Body that RFC 8058 mail clients POST to the List-Unsubscribe URL.
ONECLICK_BODY = {"List-Unsubscribe": "One-Click"}


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanUnsubscribe(FanMassMailCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailing = cls._create_fan_mailing()
        cls.email = cls.fan_granted.email_normalized

    def _url(self, route, partner=None):
        partner = partner or self.fan_granted
        if route == "oneclick":
            return self.mailing._get_unsubscribe_oneclick_url(partner.email_normalized, partner.id)
        if route == "confirm":
            return self.mailing._get_unsubscribe_url(partner.email_normalized, partner.id)
        url = self.mailing._get_unsubscribe_url(partner.email_normalized, partner.id)
        return url.replace("/confirm_unsubscribe?", f"/{route}?")

    def _withdrawals(self, partner):
        return self.env["fan.consent"].search(
            [
                ("partner_id", "=", partner.id),
                ("channel", "=", "email"),
                ("action", "=", "withdraw"),
                ("source", "=", "unsubscribe_link"),
            ]
        )

    def _is_blacklisted(self, email):
        return bool(self.env["mail.blacklist"].search([("email", "=", email)]))

    def test_oneclick_post_records_withdrawal(self):
        response = self.url_open(
            self._url("oneclick"), data=ONECLICK_BODY, headers={"User-Agent": "TestMUA/1.0"}
        )
        self.assertEqual(response.status_code, 200)
        entry = self._withdrawals(self.fan_granted)
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.ip_address, "127.0.0.1")
        self.assertEqual(entry.user_agent, "TestMUA/1.0")
        self.assertEqual(entry.address, self.email)
        self.assertEqual(entry.res_model, "mailing.mailing")
        self.assertEqual(entry.res_id, self.mailing.id)
        self.assertEqual(self.fan_granted.consent_email, "withdrawn")
        self.assertTrue(self._is_blacklisted(self.email))
        # A second POST from the mail client adds no ledger entry.
        self.url_open(self._url("oneclick"), data=ONECLICK_BODY)
        self.assertEqual(len(self._withdrawals(self.fan_granted)), 1)

    def test_oneclick_get_rejected(self):
        response = self.url_open(self._url("oneclick"), allow_redirects=False)
        self.assertNotEqual(response.status_code, 200)
        self.assertFalse(self._withdrawals(self.fan_granted))
        self.assertFalse(self._is_blacklisted(self.email))

    def test_unsubscribe_get_shows_confirmation(self):
        for route in ("unsubscribe", "confirm"):
            response = self.url_open(self._url(route))
            self.assertEqual(response.status_code, 200)
            self.assertIn('action="/mailing/confirm_unsubscribe"', response.text)
        self.assertFalse(self._withdrawals(self.fan_granted))
        self.assertFalse(self._is_blacklisted(self.email))
        self.assertEqual(self.fan_granted.consent_email, "granted")

    def test_confirm_post_records_withdrawal(self):
        self.authenticate(None, None)
        page = self.url_open(self._url("confirm"))
        csrf_token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = self.url_open(
            "/mailing/confirm_unsubscribe",
            data={
                "csrf_token": csrf_token,
                "mailing_id": self.mailing.id,
                "document_id": self.fan_granted.id,
                "email": self.email,
                "hash_token": self.mailing._generate_mailing_recipient_token(
                    self.fan_granted.id, self.email
                ),
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("/fan_preferences?", response.text)
        self.assertEqual(len(self._withdrawals(self.fan_granted)), 1)
        self.assertTrue(self._is_blacklisted(self.email))

    def test_withdrawal_cancels_queued_mail(self):
        # Queue the mails instead of sending them at once, as for a large mailing.
        self.env["ir.config_parameter"].sudo().set_param("mail.mail.force.send.limit", 0)
        with self.mock_mail_gateway(mail_unlink_sent=False):
            self.mailing.action_send_mail()
        mails = self.env["mail.mail"].search([("mailing_id", "=", self.mailing.id)])
        self.assertEqual(len(mails), 2)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"})
        self.url_open(self._url("oneclick"), data=ONECLICK_BODY)
        trace = self.mailing.mailing_trace_ids.filtered(lambda t: t.res_id == self.fan_granted.id)
        self.assertEqual(trace.trace_status, "cancel")
        self.assertEqual(trace.mail_mail_id.state, "cancel")
        other = self.mailing.mailing_trace_ids - trace
        self.assertEqual(other.trace_status, "outgoing")
        self.assertEqual(other.mail_mail_id.state, "outgoing")

    def test_preference_page_toggles(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        url = (
            f"/mailing/{self.mailing.id}/fan_preferences?document_id={self.fan_granted.id}"
            f"&email={self.email}&hash_token={token}"
        )
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        self.assertIn('name="consent_sms"', page.text)
        csrf_token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        # Keep email, drop SMS.
        response = self.url_open(url, data={"csrf_token": csrf_token, "consent_email": "1"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.fan_granted.consent_email, "granted")
        self.assertEqual(self.fan_granted.consent_sms, "withdrawn")
        entry = self.env["fan.consent"].search(
            [("partner_id", "=", self.fan_granted.id), ("source", "=", "preference_page")]
        )
        self.assertEqual(entry.channel, "sms")
        self.assertEqual(entry.ip_address, "127.0.0.1")
        self.assertFalse(self._is_blacklisted(self.email))

    def test_preference_page_sets_preferred_channel(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        url = (
            f"/mailing/{self.mailing.id}/fan_preferences?document_id={self.fan_granted.id}"
            f"&email={self.email}&hash_token={token}"
        )
        page = self.url_open(url)
        self.assertIn('name="preferred_channel"', page.text)
        csrf_token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        data = {"csrf_token": csrf_token, "consent_email": "1", "consent_sms": "1"}
        self.url_open(url, data=dict(data, preferred_channel="sms"))
        self.assertEqual(self.fan_granted.fan_preferred_channel, "sms")
        self.url_open(url, data=dict(data, preferred_channel="fax"))
        self.assertEqual(
            self.fan_granted.fan_preferred_channel, "sms", "unknown values are ignored"
        )
        self.url_open(url, data=dict(data, preferred_channel=""))
        self.assertFalse(self.fan_granted.fan_preferred_channel)

    def test_preference_page_bad_document_id(self):
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        url = (
            f"/mailing/{self.mailing.id}/fan_preferences?document_id=abc"
            f"&email={self.email}&hash_token={token}"
        )
        self.assertEqual(self.url_open(url).status_code, 400)

    def test_preference_page_ignores_channels_it_does_not_offer(self):
        self.fan_granted.phone = False
        token = self.mailing._generate_mailing_recipient_token(self.fan_granted.id, self.email)
        url = (
            f"/mailing/{self.mailing.id}/fan_preferences?document_id={self.fan_granted.id}"
            f"&email={self.email}&hash_token={token}"
        )
        page = self.url_open(url)
        self.assertNotIn('name="consent_sms"', page.text)
        csrf_token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        before = self.fan_granted.consent_sms
        self.url_open(
            url, data={"csrf_token": csrf_token, "consent_email": "1", "consent_sms": "1"}
        )
        self.assertEqual(self.fan_granted.consent_sms, before)
        self.assertFalse(
            self.env["fan.consent"].search(
                [("partner_id", "=", self.fan_granted.id), ("source", "=", "preference_page")]
            )
        )

    def test_preference_page_bad_token(self):
        url = (
            f"/mailing/{self.mailing.id}/fan_preferences?document_id={self.fan_granted.id}"
            f"&email={self.email}&hash_token=bad"
        )
        response = self.url_open(url)
        self.assertEqual(response.status_code, 403)
