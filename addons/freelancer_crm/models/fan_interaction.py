from odoo import api, fields, models

INTERACTION_TYPES = [
    ("email_open", "Email Opened"),
    ("email_click", "Email Link Clicked"),
    ("email_reply", "Email Replied"),
    ("email_bounce", "Email Bounced"),
    ("wechat_follow", "WeChat Follow"),
    ("wechat_unfollow", "WeChat Unfollow"),
    ("wechat_message", "WeChat Message"),
    ("wechat_menu", "WeChat Menu Click"),
    ("sms_reply", "SMS Reply"),
    ("weibo", "Weibo Interaction"),
    ("website", "Website Visit"),
    ("purchase", "Purchase or Payment"),
    ("note", "Manual Note"),
]

INTERACTION_CHANNELS = [
    ("email", "Email"),
    ("wechat", "WeChat"),
    ("sms", "SMS"),
    ("weibo", "Weibo"),
    ("website", "Website"),
    ("offline", "Offline"),
]

TYPE_TO_CHANNEL = {
    "email_open": "email",
    "email_click": "email",
    "email_reply": "email",
    "email_bounce": "email",
    "wechat_follow": "wechat",
    "wechat_unfollow": "wechat",
    "wechat_message": "wechat",
    "wechat_menu": "wechat",
    "sms_reply": "sms",
    "weibo": "weibo",
    "website": "website",
    "purchase": "offline",
    "note": "offline",
}


class FanInteraction(models.Model):
    _name = "fan.interaction"
    _description = "Fan Interaction"
    _order = "date desc, id desc"

    partner_id = fields.Many2one(comodel_name="res.partner", required=True, ondelete="cascade")
    interaction_type = fields.Selection(INTERACTION_TYPES, required=True)
    channel = fields.Selection(
        INTERACTION_CHANNELS, compute="_compute_channel", store=True, readonly=False
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    name = fields.Char(string="Summary")
    amount = fields.Float(help="Money paid, in the company currency, for purchases.")
    res_model = fields.Char(string="Origin Model")
    res_id = fields.Many2oneReference(string="Origin Record", model_field="res_model")

    _partner_date_index = models.Index("(partner_id, date DESC)")
    _type_date_index = models.Index("(interaction_type, date DESC)")

    @api.depends("interaction_type")
    def _compute_channel(self):
        for interaction in self:
            interaction.channel = TYPE_TO_CHANNEL.get(interaction.interaction_type, "offline")

    @api.model_create_multi
    def create(self, vals_list):
        interactions = super().create(vals_list)
        if not self.env.context.get("fan_skip_recompute"):
            # Incremental recompute: only the fans who just interacted.
            interactions.partner_id._fan_recompute_scores()
        return interactions
