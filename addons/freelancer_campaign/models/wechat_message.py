from odoo import fields, models


class WechatMessage(models.Model):
    _inherit = "wechat.message"

    fan_campaign_id = fields.Many2one(
        comodel_name="fan.campaign",
        string="Cross-Channel Campaign",
        ondelete="set null",
        index="btree_not_null",
    )
