from odoo import fields, models


class FanTierHistory(models.Model):
    """One tier change of one fan, written by the score recompute."""

    _name = "fan.tier.history"
    _description = "Fan Tier Change"
    _order = "date desc, id desc"

    partner_id = fields.Many2one(comodel_name="res.partner", required=True, ondelete="cascade")
    tier_id = fields.Many2one(comodel_name="fan.tier", string="New Tier", ondelete="set null")
    previous_tier_id = fields.Many2one(comodel_name="fan.tier", ondelete="set null")
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    is_override = fields.Boolean(string="Manual", help="The new tier was set by hand.")

    _partner_date_index = models.Index("(partner_id, date DESC)")
