from odoo import fields, models


class WechatTag(models.Model):
    _inherit = "wechat.tag"

    fan_campaign_id = fields.Many2one(
        comodel_name="fan.campaign",
        string="Cross-Channel Campaign",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The campaign that created this tag to mass send to its fans. The tag is deleted "
        "once the send has finished.",
    )
