from odoo import api, fields, models

SOCIAL_CHANNELS = [
    ("weibo", "Weibo"),
    ("wechat", "WeChat"),
    ("xiaohongshu", "Xiaohongshu"),
    ("douban", "Douban"),
    ("website", "Website"),
]

# XML ids of the UTM sources, named after the channel codes so that the
# utm_source parameter of the links reads weibo, wechat and so on.
CHANNEL_SOURCE_XMLIDS = {
    code: f"freelancer_mass_mail.utm_source_{code}" for code, _label in SOCIAL_CHANNELS
}


class FanSocialLink(models.Model):
    """Short tracked link of one post on one social channel."""

    _name = "fan.social.link"
    _description = "Social Media Tracked Link"
    _order = "create_date desc, id desc"

    name = fields.Char(string="Post", required=True)
    channel = fields.Selection(SOCIAL_CHANNELS, required=True, index=True)
    link_tracker_id = fields.Many2one(
        comodel_name="link.tracker",
        string="Tracked Link",
        required=True,
        ondelete="cascade",
        index=True,
    )
    url = fields.Char(related="link_tracker_id.url", string="Target URL")
    short_url = fields.Char(related="link_tracker_id.short_url", string="Short Link")
    campaign_id = fields.Many2one(related="link_tracker_id.campaign_id", store=True)
    source_id = fields.Many2one(related="link_tracker_id.source_id", store=True)
    click_count = fields.Integer(related="link_tracker_id.count", string="Clicks", store=True)

    _link_tracker_unique = models.Constraint(
        "UNIQUE(link_tracker_id)", "A tracked link belongs to one post and channel only."
    )

    @api.model
    def _get_channel_source(self, channel):
        return self.env.ref(CHANNEL_SOURCE_XMLIDS[channel])

    @api.model
    def _create_for_post(self, name, url, channels, campaign=None):
        """Return one social link per channel for the post, creating the missing ones.

        Each channel gets its own link tracker (UTM source = channel), so
        clicks are counted per channel. The post name is the tracker label,
        which keeps two posts pointing to the same URL apart.
        """
        medium = self.env.ref("freelancer_mass_mail.utm_medium_social")
        vals_list = [
            {
                "url": url,
                "title": name,
                "label": name,
                "campaign_id": campaign.id if campaign else False,
                "medium_id": medium.id,
                "source_id": self._get_channel_source(channel).id,
            }
            for channel in channels
        ]
        trackers = self.env["link.tracker"].search_or_create(vals_list)
        existing = self.search([("link_tracker_id", "in", trackers.ids)])
        known = set(existing.link_tracker_id.ids)
        new_links = self.create(
            [
                {"name": name, "channel": channel, "link_tracker_id": tracker.id}
                for channel, tracker in zip(channels, trackers, strict=True)
                if tracker.id not in known
            ]
        )
        return existing | new_links

    def action_view_clicks(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_mass_mail.fan_social_click_report_action"
        )
        action["domain"] = [("social_link_id", "in", self.ids)]
        return action
