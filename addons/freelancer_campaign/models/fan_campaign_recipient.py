from odoo import fields, models
from odoo.fields import Domain

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
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("unreachable", "Unreachable"),
            ("capped", "Over Frequency Cap"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
            ("opted_out", "Opted Out"),
        ],
        required=True,
        default="planned",
        help="Queued: the email or SMS waits in the mail or SMS queue. Sent: the mail server, "
        "the SMS provider or WeChat accepted the message. Cancelled or Opted Out: the message "
        "was not sent, because the mailing left the fan out or the fan opted out after "
        "planning.",
    )
    reason = fields.Char(
        help="Why the fan is not reached, why a channel failed, or why WeChat is not used."
    )
    sent_date = fields.Datetime(help="When the message was handed to WeChat, or sent.")
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

    def _fan_opted_out(self):
        """Return the recipients who withdrew consent to their channel or are blocklisted."""
        # NOTE: the consent is read now, not as it was when the message was
        # cancelled, so a fan who opted in again meanwhile shows as cancelled.
        opted_out = self.browse()
        Campaign = self.env["fan.campaign"]
        for channel in set(self.mapped("channel")):
            recipients = self.filtered(lambda r, c=channel: r.channel == c)
            partners = recipients.partner_id
            consenting = partners.filtered_domain(Domain(f"consent_{channel}", "=", "granted"))
            blocked = Campaign._blacklisted(partners, channel) if channel != "wechat" else set()
            opted_out |= recipients.filtered(
                lambda r, ok=consenting, bl=blocked: r.partner_id not in ok or r.partner_id.id in bl
            )
        return opted_out

    def _fan_opt_out_reason(self):
        self.ensure_one()
        channels = dict(self._fields["channel"]._description_selection(self.env))
        return self.env._(
            "Not sent: the fan opted out of %(channel)s before the message went out.",
            channel=channels.get(self.channel, self.channel),
        )

    def _fan_mark_left_out(self):
        """Mark the queued recipients that their mailing left out when it was sent.

        A mailing reads its recipients again when it sends, so a fan who opted
        out or left the segment after planning gets no message and no trace.
        """
        opted_out = self._fan_opted_out()
        for recipient in opted_out:
            recipient.write({"state": "opted_out", "reason": recipient._fan_opt_out_reason()})
        (self - opted_out).write(
            {
                "state": "cancelled",
                "reason": self.env._(
                    "Not sent: the mailing left the fan out when it went out, because the fan "
                    "no longer matched the segment, had no valid address or number, or no "
                    "longer gets marketing emails after a long inactivity."
                ),
            }
        )
        self.campaign_id._update_send_state()
