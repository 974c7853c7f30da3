from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import FanCase


@tagged("post_install", "-at_install")
class TestScore(FanCase):
    def _interact(self, fan, interaction_type, days_ago=0, **values):
        return fan._fan_log_interaction(
            interaction_type,
            date=fields.Datetime.now() - timedelta(days=days_ago),
            **values,
        )

    def test_new_fan_is_potential(self):
        fan = self._create_fan("新粉丝", email="new@example.com")
        fan._fan_recompute_scores()
        self.assertEqual(fan.fan_score, 0)
        self.assertEqual(fan.fan_tier_id, self.tier_potential)

    def test_interactions_raise_score_incrementally(self):
        fan = self._create_fan("吴敏", email="wu.min@example.com")
        self._interact(fan, "email_click")  # weight 3
        self.assertAlmostEqual(fan.fan_score, 3.0, places=1)
        self.assertEqual(fan.fan_tier_id, self.tier_potential)
        self._interact(fan, "purchase", amount=199)  # 20 + 199 * 0.1
        self.assertAlmostEqual(fan.fan_score, 42.9, places=1)
        self.assertEqual(fan.fan_tier_id, self.tier_active)
        self._interact(fan, "email_reply")
        self._interact(fan, "wechat_message")
        self._interact(fan, "purchase", amount=99)
        self.assertGreaterEqual(fan.fan_score, 60)
        self.assertEqual(fan.fan_tier_id, self.tier_core)

    def test_recency_halves_weight_each_half_life(self):
        fan = self._create_fan("郭强")
        self._interact(fan, "purchase", days_ago=90)  # one half-life ago: 20 -> 10
        self.assertAlmostEqual(fan.fan_score, 10.0, places=1)
        self.assertEqual(fan.fan_tier_id, self.tier_regular)

    def test_no_interaction_for_long_is_dormant(self):
        fan = self._create_fan("马超")
        for _index in range(6):
            self._interact(fan, "purchase", days_ago=120, amount=399)
        self.assertEqual(fan.fan_tier_id, self.tier_dormant)
        self._interact(fan, "email_open")
        self.assertNotEqual(fan.fan_tier_id, self.tier_dormant)

    def test_thresholds_and_weights_configurable(self):
        fan = self._create_fan("何静")
        self._interact(fan, "email_open")
        self.assertEqual(fan.fan_tier_id, self.tier_potential)
        self.env.ref("freelancer_crm.fan_score_rule_email_open").weight = 30
        self.tier_active.min_score = 29
        fan._fan_recompute_scores()
        self.assertAlmostEqual(fan.fan_score, 30.0, places=1)
        self.assertEqual(fan.fan_tier_id, self.tier_active)

    def test_full_recompute_covers_every_fan(self):
        fans = self._create_fan("甲") | self._create_fan("乙")
        not_fan = self.Partner.create({"name": "供应商"})
        self.env["fan.interaction"].with_context(fan_skip_recompute=True).create(
            [{"partner_id": fan.id, "interaction_type": "wechat_follow"} for fan in fans]
        )
        self.assertFalse(fans[0].fan_score)
        self.Partner._cron_fan_recompute_all()
        self.assertEqual(fans.mapped("fan_score"), [5.0, 5.0])
        self.assertFalse(not_fan.fan_tier_id)

    def test_server_action_recomputes_selection(self):
        fan = self._create_fan("丙")
        self.env["fan.interaction"].with_context(fan_skip_recompute=True).create(
            {"partner_id": fan.id, "interaction_type": "wechat_follow"}
        )
        action = self.env.ref("freelancer_crm.res_partner_action_server_fan_recompute")
        action.with_context(active_model="res.partner", active_ids=fan.ids).run()
        self.assertEqual(fan.fan_score, 5.0)

    def test_tier_labels_in_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["freelancer_crm"], ["zh_CN"])
        names = self.env["fan.tier"].with_context(lang="zh_CN").search([]).mapped("name")
        self.assertEqual(names, ["铁杆粉丝", "活跃粉丝", "普通粉丝", "潜在粉丝", "沉睡粉丝"])
