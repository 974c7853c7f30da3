from odoo import fields, models

from .fan_interaction import INTERACTION_TYPES


class FanScoreRule(models.Model):
    _name = "fan.score.rule"
    _description = "Engagement Score Rule"
    _order = "interaction_type"

    interaction_type = fields.Selection(INTERACTION_TYPES, required=True)
    weight = fields.Float(
        required=True,
        default=1.0,
        help="Points one interaction of this type adds to the score on the day it happens.",
    )
    active = fields.Boolean(default=True)

    _interaction_type_unique = models.Constraint(
        "UNIQUE(interaction_type)", "Each interaction type has one weight."
    )
