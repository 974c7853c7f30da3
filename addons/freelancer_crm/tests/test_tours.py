from odoo.tests import HttpCase, tagged


class FanTourCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Tours read English labels, and a database created with Chinese as its
        # first language has English inactive.
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env.ref("base.user_admin").write({"lang": "en_US"})
        cls.env["ir.config_parameter"].set_param("freelancer_crm.true_fan_goal", 7)
        cls.fan = cls.env["res.partner"].create(
            {"name": "Tour Fan", "is_fan": True, "email": "tour.fan@example.com"}
        )
        cls.fan._fan_recompute_scores()


@tagged("post_install", "-at_install")
class TestTourDesktop(FanTourCase):
    def test_tier_kanban_drag_sets_override(self):
        self.start_tour("/odoo", "freelancer_crm_tier_kanban", login="admin")
        self.assertEqual(self.fan.fan_tier_id, self.env.ref("freelancer_crm.fan_tier_core"))
        self.assertEqual(self.fan.fan_tier_override_id, self.fan.fan_tier_id)

    def test_dashboard(self):
        self.start_tour("/odoo", "freelancer_crm_dashboard", login="admin")


@tagged("post_install", "-at_install")
class TestTourMobile(FanTourCase):
    browser_size = "375x667"
    touch_enabled = True

    def test_tier_kanban_mobile(self):
        self.start_tour("/odoo", "freelancer_crm_tier_kanban_mobile", login="admin")

    def test_dashboard_mobile(self):
        self.start_tour("/odoo", "freelancer_crm_dashboard_mobile", login="admin")
