from odoo import api, fields, models
from odoo.fields import Domain


class FanDashboard(models.TransientModel):
    _inherit = "fan.dashboard"

    social_click_30_count = fields.Integer(
        string="Social Link Clicks in 30 Days", compute="_compute_social_click_30_count"
    )

    @api.depends_context("uid")
    def _compute_social_click_30_count(self):
        since = fields.Datetime.subtract(fields.Datetime.now(), days=30)
        count = self.env["fan.social.click.report"].search_count(Domain("click_date", ">=", since))
        for dashboard in self:
            dashboard.social_click_30_count = count

    def action_open_social_clicks(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_mass_mail.fan_social_click_report_action"
        )
