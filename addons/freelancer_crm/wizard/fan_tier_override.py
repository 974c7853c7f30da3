from odoo import fields, models


class FanTierOverride(models.TransientModel):
    _name = "fan.tier.override"
    _description = "Set Fan Tier by Hand"

    partner_ids = fields.Many2many(comodel_name="res.partner", string="Fans", required=True)
    tier_id = fields.Many2one(comodel_name="fan.tier", required=True)
    reason = fields.Char(required=True, help="Why these fans belong in this tier.")
    until = fields.Date(help="Last day of the manual tier. Empty means until cleared.")

    def action_apply(self):
        self.ensure_one()
        self.partner_ids.with_context(
            fan_tier_override_reason=self.reason, fan_tier_override_until=self.until
        ).write({"fan_tier_id": self.tier_id.id})
        return {"type": "ir.actions.act_window_close"}
