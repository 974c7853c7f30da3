from odoo import api, fields, models


class FanInteraction(models.Model):
    _inherit = "fan.interaction"

    interaction_type = fields.Selection(
        selection_add=[("wechat_scan", "WeChat QR Code Scan")],
        ondelete={"wechat_scan": "cascade"},
    )

    @api.depends("interaction_type")
    def _compute_channel(self):
        result = super()._compute_channel()
        for interaction in self.filtered(lambda i: i.interaction_type == "wechat_scan"):
            interaction.channel = "wechat"
        return result
