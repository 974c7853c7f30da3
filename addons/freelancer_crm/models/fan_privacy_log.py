from odoo import fields, models


class FanPrivacyLog(models.Model):
    """Record of a personal-data export or erasure (PIPL Arts. 45 and 47)."""

    _name = "fan.privacy.log"
    _description = "Personal Data Request Log"
    _order = "date desc, id desc"

    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    request_type = fields.Selection(
        [("export", "Export"), ("erase", "Erasure")], required=True, readonly=True
    )
    partner_id = fields.Many2one(comodel_name="res.partner", ondelete="set null", readonly=True)
    partner_ref = fields.Char(
        string="Contact ID", readonly=True, help="Database id of the contact, kept after erasure."
    )
    user_id = fields.Many2one(
        comodel_name="res.users",
        string="Done By",
        default=lambda self: self.env.user,
        readonly=True,
        ondelete="restrict",
    )
    attachment_id = fields.Many2one(
        comodel_name="ir.attachment", string="Exported File", readonly=True
    )
