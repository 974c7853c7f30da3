import urllib.parse

from odoo.tests import HttpCase, tagged

from .common import FanMassMailCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanMailingTours(FanMassMailCommon, HttpCase):
    """Browser tours of the mailing form, the unsubscribe page and the preference page.

    ``start_tour`` skips a tour, and reports no failure, when Chromium or
    websocket-client is missing, so each test also checks the tour's effect
    in the database.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test database may have been created with Chinese as its only
        # language: activate English for the tour's English labels.
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env.ref("base.user_admin").lang = "en_US"
        cls.env.ref("base.user_admin").group_ids |= cls.env.ref(
            "mass_mailing.group_mass_mailing_user"
        )
        cls.segment.name = "Tour Fan Segment"
        cls.mailing = cls._create_fan_mailing()

    def _recipient_query(self, partner):
        token = self.mailing._generate_mailing_recipient_token(partner.id, partner.email_normalized)
        return urllib.parse.urlencode(
            {"document_id": partner.id, "email": partner.email_normalized, "hash_token": token}
        )

    def test_fan_segment_checklist_tour(self):
        self.start_tour("/odoo", "freelancer_mass_mail_fan_segment_checklist", login="admin")
        mailing = self.env["mailing.mailing"].search([("subject", "=", "Tour fan mailing")])
        self.assertEqual(len(mailing), 1)
        self.assertEqual(mailing.fan_segment_id, self.segment)
        self.assertEqual(mailing.mailing_model_real, "res.partner")

    def test_unsubscribe_confirm_tour(self):
        url = f"/mailing/{self.mailing.id}/unsubscribe?{self._recipient_query(self.fan_granted)}"
        self.start_tour(url, "freelancer_mass_mail_unsubscribe_confirm", login=None)
        self.assertEqual(self.fan_granted.consent_email, "withdrawn")

    def test_preferences_sms_off_tour(self):
        self.assertEqual(self.fan_granted.consent_sms, "granted")
        url = (
            f"/mailing/{self.mailing.id}/fan_preferences?{self._recipient_query(self.fan_granted)}"
        )
        self.start_tour(url, "freelancer_mass_mail_preferences_sms_off", login=None)
        self.fan_granted.invalidate_recordset(["consent_sms", "consent_email"])
        self.assertEqual(self.fan_granted.consent_sms, "withdrawn")
        self.assertEqual(self.fan_granted.consent_email, "granted")
