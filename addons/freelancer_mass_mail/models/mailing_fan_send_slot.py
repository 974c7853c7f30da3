from odoo import fields, models


class MailingFanSendSlot(models.Model):
    """Time at which one recipient of a best-hour mailing is due."""

    _name = "mailing.fan.send.slot"
    _description = "Mailing Recipient Send Time"
    _order = "scheduled_at, id"
    _log_access = False

    mailing_id = fields.Many2one(
        comodel_name="mailing.mailing", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(comodel_name="res.partner", required=True, ondelete="cascade")
    hour = fields.Integer(help="Local hour (send-time zone) of the slot.")
    scheduled_at = fields.Datetime(required=True, index=True)
    from_audience = fields.Boolean(
        help="The fan has no open or click history, so the audience's best hour is used."
    )

    _mailing_partner_unique = models.Constraint(
        "UNIQUE(mailing_id, partner_id)", "A recipient has one send time per mailing."
    )
