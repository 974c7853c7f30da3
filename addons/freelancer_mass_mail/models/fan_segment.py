from odoo import fields, models
from odoo.fields import Domain


class FanSegment(models.Model):
    _inherit = "fan.segment"

    clicked_link_id = fields.Many2one(
        comodel_name="link.tracker",
        help="Keep fans who clicked this tracked link in a mailing.",
    )

    def _get_partner_domain(self, channel=None):
        domain = super()._get_partner_domain(channel=channel)
        if self.clicked_link_id:
            clicks = (
                self.env["link.tracker.click"]
                .sudo()
                .search(
                    [
                        ("link_id", "=", self.clicked_link_id.id),
                        ("mailing_trace_id.model", "=", "res.partner"),
                    ]
                )
            )
            domain &= Domain("id", "in", clicks.mailing_trace_id.mapped("res_id"))
        return domain
