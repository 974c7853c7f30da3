from odoo import api, fields, models
from odoo.fields import Domain


class FanDashboard(models.TransientModel):
    """The 1,000-true-fans dashboard: progress to the goal and the audience at a glance."""

    _name = "fan.dashboard"
    _description = "True Fans Dashboard"

    goal = fields.Integer(string="True Fan Goal", compute="_compute_figures")
    true_fan_count = fields.Integer(string="True Fans", compute="_compute_figures")
    goal_progress = fields.Float(string="Progress to Goal", compute="_compute_figures")
    fan_count = fields.Integer(string="All Fans", compute="_compute_figures")
    email_count = fields.Integer(string="Reachable by Email", compute="_compute_figures")
    sms_count = fields.Integer(string="Reachable by SMS", compute="_compute_figures")
    wechat_count = fields.Integer(string="WeChat Followers", compute="_compute_figures")
    new_30_count = fields.Integer(string="New in 30 Days", compute="_compute_figures")
    lost_30_count = fields.Integer(string="Lost in 30 Days", compute="_compute_figures")
    tier_ids = fields.Many2many(comodel_name="fan.tier", compute="_compute_figures")

    def _compute_display_name(self):
        for dashboard in self:
            dashboard.display_name = self.env._("True Fans Dashboard")

    @api.depends_context("uid")
    def _compute_figures(self):
        Partner = self.env["res.partner"]
        goal = int(
            self.env["ir.config_parameter"].sudo().get_param("freelancer_crm.true_fan_goal", 1000)
        )
        core = self.env.ref("freelancer_crm.fan_tier_core", raise_if_not_found=False)
        fans = Domain("is_fan", "=", True)
        true_fans = Partner.search_count(fans & Domain("fan_tier_id", "=", core.id)) if core else 0
        since = fields.Datetime.subtract(fields.Datetime.now(), days=30)
        ledger = self.env["fan.consent"]
        new_30 = len(
            set(ledger.search([("action", "=", "grant"), ("date", ">=", since)]).partner_id.ids)
        )
        lost_30 = len(
            set(ledger.search([("action", "=", "withdraw"), ("date", ">=", since)]).partner_id.ids)
        )
        for dashboard in self:
            dashboard.goal = goal
            dashboard.true_fan_count = true_fans
            dashboard.goal_progress = min(100.0, 100.0 * true_fans / goal) if goal > 0 else 0.0
            dashboard.fan_count = Partner.search_count(fans)
            dashboard.email_count = Partner.search_count(
                Partner._fan_consent_domain("email") & fans
            )
            dashboard.sms_count = Partner.search_count(Partner._fan_consent_domain("sms") & fans)
            dashboard.wechat_count = Partner.search_count(
                Partner._fan_consent_domain("wechat") & fans
            )
            dashboard.new_30_count = new_30
            dashboard.lost_30_count = lost_30
            dashboard.tier_ids = self.env["fan.tier"].search([])

    @api.model
    def action_open(self):
        dashboard = self.create({})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("True Fans Dashboard"),
            "res_model": self._name,
            "res_id": dashboard.id,
            "view_mode": "form",
            "target": "current",
            "context": {"form_view_initial_mode": "readonly"},
        }

    def action_open_fans(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_crm.res_partner_action_fans"
        )

    def action_open_audience(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_crm.fan_audience_report_action"
        )

    def action_open_tier_trend(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_crm.fan_tier_snapshot_action"
        )
