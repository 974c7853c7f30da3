from odoo import api, fields, models


class FanTierSnapshot(models.Model):
    """Number of fans per tier on one day, for the tier distribution over time."""

    _name = "fan.tier.snapshot"
    _description = "Fan Tier Snapshot"
    _order = "date desc, tier_id"

    date = fields.Date(required=True, index=True)
    tier_id = fields.Many2one(comodel_name="fan.tier", required=True, ondelete="cascade")
    fan_count = fields.Integer(string="Fans", aggregator="max")

    _date_tier_unique = models.Constraint("UNIQUE(date, tier_id)", "One snapshot per tier and day.")

    @api.model
    def _take_snapshot(self):
        """Store today's count of fans per tier, replacing an earlier one of today."""
        self.env["res.partner"].flush_model(["fan_tier_id", "is_fan"])
        today = fields.Date.context_today(self)
        self.env.cr.execute(
            """
            INSERT INTO fan_tier_snapshot
                   (date, tier_id, fan_count, create_uid, write_uid, create_date, write_date)
            SELECT %(today)s, t.id, COUNT(p.id), %(uid)s, %(uid)s, now(), now()
              FROM fan_tier t
         LEFT JOIN res_partner p ON p.fan_tier_id = t.id AND p.is_fan AND p.active
          GROUP BY t.id
            ON CONFLICT (date, tier_id) DO UPDATE SET fan_count = EXCLUDED.fan_count,
                                                      write_date = now()
            """,
            {"today": today, "uid": self.env.uid},
        )
        self.invalidate_model()
