from odoo.tests import tagged

from .common import FanCase


@tagged("post_install", "-at_install")
class TestDashboard(FanCase):
    def test_dashboard_counts_true_fans_against_goal(self):
        self.env["ir.config_parameter"].set_param("freelancer_crm.true_fan_goal", 4)
        before = self.Partner.search_count([("fan_tier_id", "=", self.tier_core.id)])
        fan = self._create_fan("铁杆")
        fan.write({"fan_tier_id": self.tier_core.id})
        action = self.env["fan.dashboard"].action_open()
        dashboard = self.env["fan.dashboard"].browse(action["res_id"])
        self.assertEqual(dashboard.goal, 4)
        self.assertEqual(dashboard.true_fan_count, before + 1)
        self.assertEqual(dashboard.goal_progress, min(100.0, 100.0 * (before + 1) / 4))
        self.assertEqual(dashboard.tier_ids, self.env["fan.tier"].search([]))

    def test_audience_report_new_lost_net_total(self):
        report = self.env["fan.audience.report"]

        def latest():
            return report.search([("channel", "=", "wechat")], order="date desc", limit=1)

        before = latest()
        first = self._create_fan("关注一")
        second = self._create_fan("关注二")
        (first | second)._fan_record_consent("wechat", "grant", "wechat_follow")
        second._fan_record_consent("wechat", "withdraw", "wechat_unfollow")
        self.env["fan.consent"].flush_model()
        row = latest()
        same_day = before and before.date == row.date
        self.assertEqual(row.new_count, (before.new_count if same_day else 0) + 2)
        self.assertEqual(row.lost_count, (before.lost_count if same_day else 0) + 1)
        self.assertEqual(row.net_count, row.new_count - row.lost_count)
        self.assertEqual(row.total_count, (before.total_count if before else 0) + 1)
        all_rows = report.search([("channel", "=", "wechat")])
        self.assertEqual(row.total_count, sum(all_rows.mapped("net_count")))
