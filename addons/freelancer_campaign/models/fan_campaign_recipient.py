from odoo import fields, models

from .fan_campaign import CAMPAIGN_CHANNELS, WECHAT_METHODS


class FanCampaignRecipient(models.Model):
    """One fan of a cross-channel campaign and the channel chosen to reach them."""

    _name = "fan.campaign.recipient"
    _description = "Campaign Recipient"
    _order = "campaign_id, state, channel, id"
    _rec_name = "partner_id"

    campaign_id = fields.Many2one(comodel_name="fan.campaign", required=True, ondelete="cascade")
    partner_id = fields.Many2one(comodel_name="res.partner", required=True, ondelete="cascade")
    channel = fields.Selection(CAMPAIGN_CHANNELS, help="Channel the fan is reached on.")
    wechat_method = fields.Selection(
        WECHAT_METHODS,
        string="WeChat Method",
        help="Customer-service message for fans who wrote to the account in the last 48 "
        "hours, mass send to the campaign's tag for the other followers.",
    )
    fallback_channels = fields.Char(
        help="Other reachable channels, in the order to try them if the chosen one fails."
    )
    state = fields.Selection(
        [
            ("planned", "Planned"),
            ("sent", "Sent"),
            ("unreachable", "Unreachable"),
            ("capped", "Over Frequency Cap"),
            ("failed", "Failed"),
        ],
        required=True,
        default="planned",
    )
    reason = fields.Char(
        help="Why the fan is not reached, why a channel failed, or why WeChat is not used."
    )
    sent_date = fields.Datetime()
    mailing_id = fields.Many2one(comodel_name="mailing.mailing", ondelete="set null")
    trace_id = fields.Many2one(
        comodel_name="mailing.trace",
        string="Mailing Trace",
        ondelete="set null",
        help="Trace of the email or SMS sent to the fan by the mailing.",
    )
    trace_status = fields.Selection(
        related="trace_id.trace_status", string="Delivery", help="Status of the email or SMS."
    )
    wechat_mass_send_id = fields.Many2one(
        comodel_name="wechat.mass.send", string="WeChat Mass Send", ondelete="set null"
    )

    _campaign_partner_unique = models.Constraint(
        "UNIQUE(campaign_id, partner_id)", "A fan appears once in a campaign."
    )
