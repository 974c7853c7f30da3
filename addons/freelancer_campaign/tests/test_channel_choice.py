from odoo.tests import BaseCase, tagged

from odoo.addons.freelancer_campaign.tools import order_channels


@tagged("post_install", "-at_install")
class TestChannelChoice(BaseCase):
    def test_preferred_channel_first(self):
        self.assertEqual(
            order_channels(["wechat", "email", "sms"], "sms"), ["sms", "wechat", "email"]
        )

    def test_unavailable_preference_ignored(self):
        self.assertEqual(order_channels(["email", "sms"], "wechat"), ["email", "sms"])

    def test_engagement_before_cost(self):
        ordered = order_channels(["wechat", "email", "sms"], None, {"sms": 3, "email": 1})
        self.assertEqual(ordered, ["sms", "email", "wechat"])

    def test_cost_breaks_ties_sms_last(self):
        self.assertEqual(order_channels(["sms", "email", "wechat"]), ["wechat", "email", "sms"])
