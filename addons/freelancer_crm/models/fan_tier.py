from odoo import fields, models


class FanTier(models.Model):
    _name = "fan.tier"
    _description = "Fan Tier"
    _order = "level desc, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Technical key used by segments and code.")
    level = fields.Integer(
        required=True,
        help="Rank of the tier: a higher level means a closer fan. "
        "Segments use it for 'this tier or above'.",
    )
    min_score = fields.Float(
        string="Minimum Score",
        help="Engagement score from which a fan enters this tier.",
    )
    is_dormant = fields.Boolean(
        string="Dormant Tier",
        help="Fans without any interaction for the configured number of days land in "
        "this tier, whatever their score.",
    )
    color = fields.Integer()
    description = fields.Text(translate=True)
    partner_count = fields.Integer(string="Fans", compute="_compute_partner_count")

    _code_unique = models.Constraint("UNIQUE(code)", "Each tier needs its own code.")

    def _compute_partner_count(self):
        counts = dict(
            self.env["res.partner"]._read_group(
                [("fan_tier_id", "in", self.ids)], ["fan_tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.partner_count = counts.get(tier, 0)
