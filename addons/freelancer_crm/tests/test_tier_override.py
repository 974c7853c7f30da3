from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import FanCase


@tagged("post_install", "-at_install")
class TestTierOverride(FanCase):
    def test_override_wins_and_is_recorded(self):
        fan = self._create_fan("覆盖甲")
        fan._fan_recompute_scores()
        self.assertEqual(fan.fan_tier_id, self.tier_potential)
        wizard = self.env["fan.tier.override"].create(
            {"partner_ids": fan.ids, "tier_id": self.tier_core.id, "reason": "线下老客户"}
        )
        wizard.action_apply()
        self.assertEqual(fan.fan_tier_id, self.tier_core)
        self.assertEqual(fan.fan_tier_override_reason, "线下老客户")
        fan._fan_log_interaction("email_open")
        self.assertEqual(fan.fan_tier_id, self.tier_core, "interactions keep the override")
        history = fan.fan_tier_history_ids.sorted("id")
        self.assertEqual(history[-1].tier_id, self.tier_core)
        self.assertEqual(history[-1].previous_tier_id, self.tier_potential)
        self.assertTrue(history[-1].is_override)

    def test_kanban_drag_sets_override_with_reason(self):
        fan = self._create_fan("拖动乙")
        fan.write({"fan_tier_id": self.tier_active.id})
        self.assertEqual(fan.fan_tier_id, self.tier_active)
        self.assertEqual(fan.fan_tier_override_id, self.tier_active)
        self.assertIn(self.tier_active.name, fan.fan_tier_override_reason)
        fan.action_fan_tier_override_clear()
        self.assertFalse(fan.fan_tier_override_id)
        self.assertEqual(fan.fan_tier_id, self.tier_potential)

    def test_expired_override_cleared_nightly(self):
        fan = self._create_fan("过期丙")
        fan.with_context(
            fan_tier_override_reason="活动期间",
            fan_tier_override_until=fields.Date.today() - timedelta(days=1),
        ).write({"fan_tier_id": self.tier_core.id})
        self.assertNotEqual(fan.fan_tier_id, self.tier_core, "an expired override does not apply")
        self.Partner._cron_fan_recompute_all()
        self.assertFalse(fan.fan_tier_override_id)
        self.assertEqual(fan.fan_tier_id, self.tier_potential)

    def test_history_only_on_change(self):
        fan = self._create_fan("历史丁")
        fan._fan_recompute_scores()
        fan._fan_recompute_scores()
        self.assertEqual(len(fan.fan_tier_history_ids), 1)
        self.assertFalse(fan.fan_tier_history_ids.previous_tier_id)

    def test_nightly_snapshot_counts_tiers(self):
        self._create_fan("快照戊")
        self.Partner._cron_fan_recompute_all()
        self.Partner._cron_fan_recompute_all()
        today = fields.Date.context_today(self.Partner)
        snapshots = self.env["fan.tier.snapshot"].search([("date", "=", today)])
        self.assertEqual(len(snapshots), len(self.env["fan.tier"].search([])))
        potential = snapshots.filtered(lambda s: s.tier_id == self.tier_potential)
        expected = self.Partner.search_count(
            [("is_fan", "=", True), ("fan_tier_id", "=", self.tier_potential.id)]
        )
        self.assertEqual(potential.fan_count, expected)
