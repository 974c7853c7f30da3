from odoo import fields, models
from odoo.exceptions import UserError

from .fan_social_link import SOCIAL_CHANNELS


class FanSocialLinkWizard(models.TransientModel):
    _name = "fan.social.link.wizard"
    _description = "Create Social Media Tracked Links"

    name = fields.Char(string="Post", required=True, help="Post or campaign the links are for.")
    url = fields.Char(string="Target URL", required=True)
    campaign_id = fields.Many2one(comodel_name="utm.campaign")
    use_weibo = fields.Boolean(string="Weibo", default=True)
    use_wechat = fields.Boolean(string="WeChat", default=True)
    use_xiaohongshu = fields.Boolean(string="Xiaohongshu", default=True)
    use_douban = fields.Boolean(string="Douban")
    use_website = fields.Boolean(string="Website")

    def _selected_channels(self):
        self.ensure_one()
        return [code for code, _label in SOCIAL_CHANNELS if self[f"use_{code}"]]

    def action_create_links(self):
        self.ensure_one()
        channels = self._selected_channels()
        if not channels:
            raise UserError(self.env._("Select at least one channel."))
        links = self.env["fan.social.link"]._create_for_post(
            self.name.strip(), self.url.strip(), channels, campaign=self.campaign_id
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Social Links"),
            "res_model": "fan.social.link",
            "view_mode": "list,form",
            "domain": [("id", "in", links.ids)],
        }
