from odoo import fields, models, tools

from .fan_social_link import SOCIAL_CHANNELS


class FanSocialClickReport(models.Model):
    """One row per click on a social media tracked link."""

    _name = "fan.social.click.report"
    _description = "Social Link Clicks"
    _auto = False
    _order = "click_date desc"

    click_date = fields.Datetime(readonly=True)
    social_link_id = fields.Many2one(
        comodel_name="fan.social.link", string="Post Link", readonly=True
    )
    post = fields.Char(readonly=True)
    channel = fields.Selection(SOCIAL_CHANNELS, readonly=True)
    source_id = fields.Many2one(comodel_name="utm.source", readonly=True)
    campaign_id = fields.Many2one(comodel_name="utm.campaign", readonly=True)
    country_id = fields.Many2one(comodel_name="res.country", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS (
                SELECT c.id AS id,
                       c.create_date AS click_date,
                       s.id AS social_link_id,
                       s.name AS post,
                       s.channel AS channel,
                       t.source_id AS source_id,
                       t.campaign_id AS campaign_id,
                       c.country_id AS country_id
                  FROM link_tracker_click c
                  JOIN fan_social_link s ON s.link_tracker_id = c.link_id
                  JOIN link_tracker t ON t.id = c.link_id
            )
        """)
