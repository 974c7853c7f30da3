from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestCampaignTour(HttpCase):
    def test_compose_and_send_campaign(self):
        self.env["res.lang"]._activate_lang("en_US")
        self.env.ref("base.user_admin").write({"lang": "en_US"})
        fan = self.env["res.partner"].create(
            {"name": "Tour Campaign Fan", "is_fan": True, "email": "tour.campaign@example.com"}
        )
        fan._fan_record_consent("email", "grant", "manual")
        self.env["fan.segment"].create(
            {"name": "Tour Segment", "extra_domain": repr([("id", "=", fan.id)])}
        )
        self.start_tour("/odoo", "freelancer_campaign_compose", login="admin")
        campaign = self.env["fan.campaign"].search([("name", "=", "Tour Campaign")])
        # Tests never hand emails to an SMTP server, so the email stays queued.
        self.assertEqual(campaign.state, "sending")
        self.assertEqual(campaign.recipient_ids.channel, "email")
        self.assertEqual(campaign.recipient_ids.state, "queued")
