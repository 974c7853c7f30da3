from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestOptinTour(HttpCase):
    def test_subscribe_form_tour(self):
        self.start_tour("/fans/subscribe", "freelancer_mass_mail_optin_subscribe", login=None)
        request = self.env["fan.optin.request"].search([("email", "=", "tour.optin@example.com")])
        self.assertEqual(request.state, "pending")
        self.assertEqual(request.partner_id.consent_email, "pending")
        entry = request.partner_id.fan_consent_ids
        self.assertEqual((entry.action, entry.source), ("request", "web_form"))
        self.assertTrue(entry.ip_address)
