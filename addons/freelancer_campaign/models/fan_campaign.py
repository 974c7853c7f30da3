import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import email_normalize, is_html_empty

from odoo.addons.freelancer_mass_mail.tools.sms import sms_part_count

from ..tools import order_channels

_logger = logging.getLogger(__name__)

CAMPAIGN_CHANNELS = [("wechat", "WeChat"), ("email", "Email"), ("sms", "SMS")]

# Mailing trace states of a message that reached (or was handed to) the recipient.
DELIVERED_TRACE_STATES = ("sent", "pending", "open", "reply")
# Mailing trace states of a message that did not reach the recipient: refused by
# the SMTP server or the SMS provider, bounced, or cancelled before sending.
FAILED_TRACE_STATES = ("error", "bounce", "cancel")
# Mailing trace states of a message still waiting in the mail or SMS queue.
QUEUED_TRACE_STATES = ("outgoing", "process")
# Failure types of a cancelled trace whose recipient opted out or is on a blocklist.
OPT_OUT_FAILURE_TYPES = ("mail_bl", "mail_optout", "sms_blacklist", "sms_optout")
# Recipient states that "Retry Failed" sends again.
RETRY_STATES = ("failed", "cancelled", "opted_out")
WECHAT_METHODS = [
    ("customer_service", "Customer-Service Message"),
    ("tag", "Mass Send by Tag"),
]


class FanCampaign(models.Model):
    """One message to a segment, each fan reached once on their own channel."""

    _name = "fan.campaign"
    _description = "Cross-Channel Campaign"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"

    name = fields.Char(required=True, tracking=True)
    segment_id = fields.Many2one(comodel_name="fan.segment", required=True, tracking=True)
    state = fields.Selection(
        [("draft", "Draft"), ("planned", "Planned"), ("sending", "Sending"), ("sent", "Sent")],
        default="draft",
        required=True,
        tracking=True,
    )
    use_wechat = fields.Boolean(string="WeChat", default=True)
    use_email = fields.Boolean(string="Email", default=True)
    use_sms = fields.Boolean(string="SMS", default=True)
    wechat_account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        default=lambda self: self.env["wechat.account"].search([], limit=1),
    )
    wechat_content_type = fields.Selection(
        [("text", "Text"), ("article", "Article")],
        string="WeChat Content",
        default="text",
        required=True,
    )
    wechat_text = fields.Text(
        string="WeChat Text",
        help="Sent as a customer-service message to fans who wrote to the account in the "
        "last 48 hours, and by a mass send to a tag to the other followers of a verified "
        "account.",
    )
    wechat_article_id = fields.Many2one(
        comodel_name="wechat.article",
        string="WeChat Article",
        domain="[('account_id', '=', wechat_account_id)]",
        help="Uploaded as a draft if needed, then sent as a customer-service message (mpnews) "
        "inside the 48-hour window and by a mass send to a tag outside it.",
    )
    email_subject = fields.Char()
    email_from = fields.Char(
        string="Send From",
        default=lambda self: self.env.user.email_formatted or self.env.company.email_formatted,
        help="Sender of the email, for example 手作小记 <studio@example.com>.",
    )
    email_body = fields.Html(sanitize_style=True)
    sms_body = fields.Text(
        string="SMS Text",
        help="Without the 【signature】 and the refusal wording: both are added when sending.",
    )
    sms_preview = fields.Text(
        string="SMS as Sent",
        compute="_compute_sms_preview",
        help="The SMS with the signature and refusal wording added, as fans receive it.",
    )
    sms_preview_parts = fields.Integer(string="SMS Parts", compute="_compute_sms_preview")
    recipient_ids = fields.One2many(
        comodel_name="fan.campaign.recipient", inverse_name="campaign_id", string="Recipients"
    )
    mailing_ids = fields.One2many(
        comodel_name="mailing.mailing", inverse_name="fan_campaign_id", string="Mailings"
    )
    wechat_mass_send_ids = fields.One2many(
        comodel_name="wechat.mass.send", inverse_name="fan_campaign_id", string="WeChat Mass Sends"
    )
    sent_date = fields.Datetime(readonly=True, copy=False)

    planned_count = fields.Integer(string="Planned", compute="_compute_recipient_counts")
    unreachable_count = fields.Integer(string="Unreachable", compute="_compute_recipient_counts")
    capped_count = fields.Integer(string="Over Cap", compute="_compute_recipient_counts")
    failed_count = fields.Integer(string="Failed", compute="_compute_recipient_counts")
    queued_count = fields.Integer(
        string="Queued",
        compute="_compute_recipient_counts",
        help="Fans whose email or SMS waits in the mail or SMS queue.",
    )
    cancelled_count = fields.Integer(string="Cancelled", compute="_compute_recipient_counts")
    opted_out_count = fields.Integer(
        string="Opted Out Before Sending",
        compute="_compute_recipient_counts",
        help="Fans who withdrew consent or were blocklisted after planning, so their email "
        "or SMS was not sent.",
    )
    plan_warning = fields.Text(
        compute="_compute_recipient_counts",
        help="Fans of the segment that the campaign does not reach, with the reasons.",
    )
    wechat_sent_count = fields.Integer(string="WeChat Sent", compute="_compute_results")
    wechat_read_count = fields.Integer(
        string="WeChat Article Readers",
        compute="_compute_results",
        help="Readers of the article sent by mass send, from the WeChat article statistics "
        "(summed per day, so a fan who read on two days counts twice). WeChat does not report "
        "reads of customer-service messages.",
    )
    wechat_failed_count = fields.Integer(string="WeChat Failed", compute="_compute_results")
    email_failed_count = fields.Integer(
        string="Emails Failed",
        compute="_compute_results",
        help="Fans whose email was refused by the mail server or bounced, and who were not "
        "reached since.",
    )
    sms_failed_count = fields.Integer(string="SMS Failed", compute="_compute_results")
    email_sent_count = fields.Integer(string="Emails Sent", compute="_compute_results")
    email_opened_count = fields.Integer(string="Emails Opened", compute="_compute_results")
    email_clicked_count = fields.Integer(string="Emails Clicked", compute="_compute_results")
    sms_sent_count = fields.Integer(string="SMS Sent", compute="_compute_results")
    sms_clicked_count = fields.Integer(string="SMS Clicked", compute="_compute_results")
    wechat_optout_count = fields.Integer(string="WeChat Opt-outs", compute="_compute_results")
    email_optout_count = fields.Integer(string="Email Opt-outs", compute="_compute_results")
    sms_optout_count = fields.Integer(string="SMS Opt-outs", compute="_compute_results")
    reached_count = fields.Integer(string="Reached", compute="_compute_results")
    optout_count = fields.Integer(string="Opt-outs", compute="_compute_results")
    sms_part_count = fields.Integer(string="SMS Parts Billed", compute="_compute_results")
    sms_cost = fields.Float(
        string="SMS Cost",
        compute="_compute_results",
        digits=(16, 3),
        help="SMS parts billed times the price per part set in the system parameter "
        "freelancer_campaign.sms_part_price (yuan).",
    )

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    @api.constrains("email_from")
    def _check_email_from(self):
        for campaign in self:
            error = campaign._email_from_error()
            if error:
                raise ValidationError(error)

    def _email_from_error(self):
        """Return the error message for a sender address that is set but invalid, or False."""
        self.ensure_one()
        address = (self.email_from or "").strip()
        if not address or email_normalize(address):
            return False
        return self.env._(
            "The sender address “%(address)s” is not a valid email address. Enter one address, "
            "for example 手作小记 <studio@example.com>.",
            address=address,
        )

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends("recipient_ids.state")
    def _compute_recipient_counts(self):
        for campaign in self:
            states = campaign.recipient_ids.mapped("state")
            campaign.planned_count = states.count("planned")
            campaign.unreachable_count = states.count("unreachable")
            campaign.capped_count = states.count("capped")
            campaign.failed_count = states.count("failed")
            campaign.queued_count = states.count("queued")
            campaign.cancelled_count = states.count("cancelled")
            campaign.opted_out_count = states.count("opted_out")
            campaign.plan_warning = campaign._plan_warning_text()

    def _plan_warning_text(self):
        """Return the warning about the fans of the segment left out by the plan, or False."""
        self.ensure_one()
        if not (self.unreachable_count or self.capped_count):
            return False
        return self.env._(
            "%(skipped)s of the %(total)s fans of the segment will not receive this campaign: "
            "%(unreachable)s cannot be reached on any of its channels and %(capped)s are over "
            "the frequency cap.",
            skipped=self.unreachable_count + self.capped_count,
            total=len(self.recipient_ids),
            unreachable=self.unreachable_count,
            capped=self.capped_count,
        )

    @api.depends("sms_body")
    def _compute_sms_preview(self):
        for campaign in self:
            mailing = self.env["mailing.mailing"].new(
                {"mailing_type": "sms", "body_plaintext": campaign.sms_body or ""}
            )
            campaign.sms_preview = mailing._fan_compose_sms_body() if campaign.sms_body else False
            campaign.sms_preview_parts = sms_part_count(campaign.sms_preview)

    def _compute_results(self):
        price = float(self._param("sms_part_price", 0.045))
        Trace = self.env["mailing.trace"].sudo()
        Consent = self.env["fan.consent"].sudo()
        for campaign in self:
            sent = campaign.recipient_ids.filtered(lambda r: r.state == "sent")
            failed = campaign.recipient_ids.filtered(lambda r: r.state == "failed")
            by_channel = {
                channel: sent.filtered(lambda r, c=channel: r.channel == c).partner_id
                for channel, _label in CAMPAIGN_CHANNELS
            }
            for channel, _label in CAMPAIGN_CHANNELS:
                campaign[f"{channel}_failed_count"] = len(
                    failed.filtered(lambda r, c=channel: r.channel == c)
                )
            email_traces = Trace.search(
                [("mass_mailing_id", "in", campaign.mailing_ids.filtered(
                    lambda m: m.mailing_type == "mail").ids)]
            )  # fmt: skip
            sms_traces = Trace.search(
                [("mass_mailing_id", "in", campaign.mailing_ids.filtered(
                    lambda m: m.mailing_type == "sms").ids)]
            )  # fmt: skip
            campaign.wechat_sent_count = len(by_channel["wechat"])
            campaign.wechat_read_count = campaign._wechat_article_readers()
            campaign.email_sent_count = len(
                email_traces.filtered(lambda t: t.trace_status in DELIVERED_TRACE_STATES)
            )
            campaign.email_opened_count = len(email_traces.filtered("open_datetime"))
            campaign.email_clicked_count = len(email_traces.filtered("links_click_datetime"))
            sms_delivered = sms_traces.filtered(lambda t: t.trace_status in DELIVERED_TRACE_STATES)
            campaign.sms_sent_count = len(sms_delivered)
            campaign.sms_clicked_count = len(sms_traces.filtered("links_click_datetime"))
            for channel, _label in CAMPAIGN_CHANNELS:
                optouts = 0
                if campaign.sent_date and by_channel[channel]:
                    optouts = len(
                        Consent.search(
                            [
                                ("partner_id", "in", by_channel[channel].ids),
                                ("channel", "=", channel),
                                ("action", "=", "withdraw"),
                                ("date", ">=", campaign.sent_date),
                            ]
                        ).partner_id
                    )
                campaign[f"{channel}_optout_count"] = optouts
            campaign.reached_count = (
                campaign.wechat_sent_count + campaign.email_sent_count + campaign.sms_sent_count
            )
            campaign.optout_count = (
                campaign.wechat_optout_count + campaign.email_optout_count
                + campaign.sms_optout_count
            )  # fmt: skip
            sms_mailing = campaign.mailing_ids.filtered(lambda m: m.mailing_type == "sms")[:1]
            parts = sms_part_count(sms_mailing._fan_compose_sms_body()) if sms_mailing else 0
            campaign.sms_part_count = parts * len(sms_delivered)
            campaign.sms_cost = campaign.sms_part_count * price

    def _wechat_article_readers(self):
        """Return the readers WeChat's article statistics report for the campaign's mass sends.

        An article mass send shows up in the statistics under the msgid
        ``<msg_data_id>_<index>``.
        """
        self.ensure_one()
        sends = self.wechat_mass_send_ids.filtered(
            lambda send: send.msg_type == "mpnews" and send.msg_data_id
        )
        if not sends:
            return 0
        domain = Domain.OR(
            Domain("msgid", "=like", f"{send.msg_data_id}\\_%")
            & Domain("account_id", "=", send.account_id.id)
            for send in sends
        )
        stats = self.env["wechat.stat.article"].sudo().search(domain)
        return sum(stats.mapped("read_user"))

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_plan(self):
        """Choose each fan's channel, so that the plan can be reviewed before sending.

        Raises when no fan of the segment can be reached. Returns a warning
        notification when some fans cannot be reached or are over the cap.
        """
        self._lock_for_send()
        for campaign in self:
            campaign._check_content()
            campaign._check_not_sent()
            campaign.recipient_ids.unlink()
            campaign.recipient_ids = [
                fields.Command.create(values) for values in campaign._plan_recipients()
            ]
            campaign._check_reachable()
            campaign.state = "planned"
        return self._plan_warning_action()

    def action_send(self):
        """Send the planned campaigns, planning draft ones first.

        Returns the same warning notification as planning when some fans of
        the segment get nothing.
        """
        self._lock_for_send()
        for campaign in self:
            campaign._check_not_sent()
            if campaign.state == "draft":
                campaign.action_plan()
            else:
                # The content may have changed since planning.
                campaign._check_content()
                campaign._check_reachable()
            campaign._send()
        return self._plan_warning_action()

    def action_retry_failed(self):
        """Send once more to the recipients whose message failed.

        A message refused by the mail server or the SMS provider, or a WeChat
        message, is sent again on the same channel. A bounced or cancelled
        email or SMS, or one not sent because the fan opted out, moves to the
        fan's next channel. Recipients reached or still queued are never in
        the retry.
        """
        self._lock_for_send()
        for campaign in self:
            failed = campaign.recipient_ids.filtered(lambda r: r.state in RETRY_STATES)
            if not failed:
                raise UserError(
                    self.env._(
                        "“%(name)s” has no failed, cancelled or opted-out recipients.",
                        name=campaign.name,
                    )
                )
            if not campaign._prepare_retry(failed):
                raise UserError(
                    self.env._(
                        "No failed recipient of “%(name)s” can be sent again now. The reason "
                        "on each failed recipient tells why.",
                        name=campaign.name,
                    )
                )
            campaign._send()
        return True

    def action_reset_draft(self):
        self.filtered(lambda c: c.state == "planned").write({"state": "draft"})
        return True

    def action_view_recipients(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recipients"),
            "res_model": "fan.campaign.recipient",
            "view_mode": "list",
            "domain": [("campaign_id", "=", self.id)],
            "context": {"search_default_group_state": 1},
        }

    def _lock_for_send(self):
        """Lock the campaigns' rows until the end of the transaction, or raise.

        Planning, sending and retrying take this lock, so a second send of the
        same campaign started while the first one runs stops here instead of
        sending twice. NOWAIT makes it fail at once instead of waiting.
        """
        if not self:
            return
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT id FROM fan_campaign WHERE id = ANY(%s) FOR UPDATE NOWAIT",
                    [self.ids],
                )
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
            # SerializationFailure: the other send committed after this
            # transaction started, so this one cannot lock the updated row.
            _logger.info("Campaigns %s are being sent by another transaction", self.ids)
            raise UserError(
                self.env._(
                    "“%(name)s” is already being sent. Wait until that send has finished, "
                    "then reload the campaign to see its results.",
                    name=", ".join(self.mapped("name")),
                )
            ) from None
        # Another transaction may have changed the rows before the lock.
        self.invalidate_recordset()

    # ------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------

    def _param(self, key, default):
        return (
            self.env["ir.config_parameter"].sudo().get_param(f"freelancer_campaign.{key}", default)
        )

    def _check_content(self):
        self.ensure_one()
        channels = []
        if self.use_wechat:
            if not self.wechat_account_id:
                raise UserError(self.env._("WeChat is on: choose the Official Account."))
            if self.wechat_content_type == "text" and not (self.wechat_text or "").strip():
                raise UserError(self.env._("WeChat is on: write the WeChat text."))
            if self.wechat_content_type == "article":
                if not self.wechat_article_id:
                    raise UserError(self.env._("WeChat is on: choose the WeChat article."))
                if self.wechat_article_id.account_id != self.wechat_account_id:
                    raise UserError(
                        self.env._(
                            "The article “%(article)s” belongs to another Official Account. "
                            "Choose an article of “%(account)s”.",
                            article=self.wechat_article_id.title,
                            account=self.wechat_account_id.name,
                        )
                    )
            channels.append("wechat")
        if self.use_email:
            if not (self.email_subject or "").strip() or is_html_empty(self.email_body):
                raise UserError(self.env._("Email is on: write the email subject and body."))
            if not (self.email_from or "").strip():
                raise UserError(self.env._("Email is on: set the sender address (Send From)."))
            error = self._email_from_error()
            if error:
                raise UserError(error)
            channels.append("email")
        if self.use_sms:
            if not (self.sms_body or "").strip():
                raise UserError(self.env._("SMS is on: write the SMS text."))
            channels.append("sms")
        if not channels:
            raise UserError(self.env._("Turn on at least one channel."))
        return channels

    def _check_not_sent(self):
        self.ensure_one()
        if self.state in ("sending", "sent"):
            raise UserError(self.env._("“%(name)s” has already been sent.", name=self.name))

    def _check_reachable(self):
        """Raise when the plan reaches no fan, with the counts that explain why."""
        self.ensure_one()
        if self.planned_count:
            return
        if not self.recipient_ids:
            raise UserError(
                self.env._(
                    "The segment “%(segment)s” has no fans, so “%(name)s” would reach nobody. "
                    "Choose another segment or change its conditions.",
                    segment=self.segment_id.display_name,
                    name=self.name,
                )
            )
        raise UserError(
            self.env._(
                "No fan of the segment “%(segment)s” can be reached now: %(unreachable)s cannot "
                "be reached on any channel of “%(name)s” and %(capped)s are over the frequency "
                "cap. Turn on more channels, choose another segment or send later.",
                segment=self.segment_id.display_name,
                name=self.name,
                unreachable=self.unreachable_count,
                capped=self.capped_count,
            )
        )

    def _plan_warning_action(self):
        """Return a warning notification about the fans left out of the plans, or True."""
        warnings = [campaign.plan_warning for campaign in self if campaign.plan_warning]
        if not warnings:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Some fans will not receive this campaign"),
                "message": " ".join(warnings),
                "type": "warning",
                "sticky": True,
                # The window close makes the form reload and show the new plan.
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _plan_recipients(self):
        """Return the values of one recipient line per member of the segment."""
        self.ensure_one()
        channels = self._check_content()
        partners = self.env["res.partner"].search(self.segment_id._get_partner_domain())
        reachable, wechat_methods, wechat_reasons = self._reachable_channels(partners, channels)
        engagement = self._engagement(partners)
        sent_counts = self._marketing_counts(partners)
        cap = int(self._param("cap_count", 2))
        cap_days = int(self._param("cap_days", 7))
        lines = []
        for partner in partners:
            available = reachable.get(partner.id, [])
            if not available:
                lines.append(
                    {
                        "partner_id": partner.id,
                        "state": "unreachable",
                        "reason": wechat_reasons.get(partner.id)
                        or self.env._("No consent on any channel of this campaign."),
                    }
                )
                continue
            if cap > 0 and sent_counts.get(partner.id, 0) >= cap:
                lines.append(
                    {
                        "partner_id": partner.id,
                        "state": "capped",
                        "reason": self.env._(
                            "Already received %(count)s marketing messages in %(days)s days.",
                            count=sent_counts[partner.id],
                            days=cap_days,
                        ),
                    }
                )
                continue
            ordered = order_channels(
                available, partner.fan_preferred_channel, engagement.get(partner.id)
            )
            lines.append(
                {
                    "partner_id": partner.id,
                    "channel": ordered[0],
                    "fallback_channels": ",".join(ordered[1:]),
                    "wechat_method": wechat_methods.get(partner.id),
                    "state": "planned",
                    # Why WeChat is not used, for a fan who follows the account.
                    "reason": wechat_reasons.get(partner.id),
                }
            )
        return lines

    def _reachable_channels(self, partners, channels):
        """Return the channels that may reach each fan now, and how WeChat would.

        Returns ``(reachable, wechat_methods, wechat_reasons)``:
        ``{partner_id: [channel, ...]}``, ``{partner_id: method}`` for the fans
        reachable on WeChat, and ``{partner_id: reason}`` for the followers
        WeChat cannot reach.
        """
        Partner = self.env["res.partner"]
        reachable = {partner_id: [] for partner_id in partners.ids}
        wechat_methods, wechat_reasons = {}, {}
        for channel in channels:
            if channel == "wechat":
                wechat_methods, wechat_reasons = self._wechat_reachable(partners)
                allowed = set(wechat_methods)
            else:
                allowed = set(
                    Partner.search(
                        Partner._fan_consent_domain(channel) & Domain("id", "in", partners.ids)
                    ).ids
                )
                blacklisted = self._blacklisted(partners, channel)
                allowed -= blacklisted
            for partner_id in allowed:
                reachable[partner_id].append(channel)
        return reachable, wechat_methods, wechat_reasons

    def _blacklisted(self, partners, channel):
        if channel == "email":
            emails = set(
                self.env["mail.blacklist"].sudo().search(
                    [("email", "in", partners.mapped("email_normalized"))]
                ).mapped("email")
            )  # fmt: skip
            return {p.id for p in partners if p.email_normalized in emails}
        numbers = set(
            self.env["phone.blacklist"].sudo().search(
                [("number", "in", [n for n in partners.mapped("fan_mobile") if n])]
            ).mapped("number")
        )  # fmt: skip
        return {p.id for p in partners if p.fan_mobile in numbers}

    def _engagement(self, partners):
        """Return ``{partner_id: {channel: interactions}}`` over the engagement period."""
        days = int(self._param("engagement_days", 180))
        since = fields.Datetime.now() - timedelta(days=days)
        groups = (
            self.env["fan.interaction"]
            .sudo()
            ._read_group(
                [("partner_id", "in", partners.ids), ("date", ">=", since)],
                ["partner_id", "channel"],
                ["__count"],
            )
        )
        engagement = {}
        for partner, channel, count in groups:
            engagement.setdefault(partner.id, {})[channel] = count
        return engagement

    def _marketing_counts(self, partners):
        """Return ``{partner_id: count}`` of marketing messages sent within the cap period.

        Counts the email and SMS mailings of any kind (their traces, queued
        ones included, failed ones not), the WeChat messages sent by campaigns
        and one message per WeChat mass send (to all followers or a tag, from
        a campaign or not) for each fan it targeted.
        """
        cap_days = int(self._param("cap_days", 7))
        since = fields.Datetime.now() - timedelta(days=cap_days)
        counts = {}
        traces = (
            self.env["mailing.trace"]
            .sudo()
            ._read_group(
                [
                    ("model", "=", "res.partner"),
                    ("res_id", "in", partners.ids),
                    ("trace_status", "not in", FAILED_TRACE_STATES),
                    ("create_date", ">=", since),
                ],
                ["res_id"],
                ["__count"],
            )
        )
        for partner_id, count in traces:
            counts[partner_id] = counts.get(partner_id, 0) + count
        wechat = (
            self.env["wechat.message"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", partners.ids),
                    ("direction", "=", "out"),
                    ("fan_campaign_id", "!=", False),
                    ("create_time", ">=", since),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner, count in wechat:
            counts[partner.id] = counts.get(partner.id, 0) + count
        mass_sends = self.env["wechat.mass.send"].sudo()._receipt_counts(partners, since)
        for partner_id, count in mass_sends.items():
            counts[partner_id] = counts.get(partner_id, 0) + count
        return counts

    # ------------------------------------------------------------
    # SENDING
    # ------------------------------------------------------------

    def _send(self):
        """Send WeChat messages first, then one email and one SMS mailing.

        The mailings of the planned channels are created and checked before
        anything goes out, so a checklist error stops the campaign whole. A fan
        whose WeChat message fails falls back to their next reachable channel,
        so each planned fan gets exactly one message. Emails and SMS are
        queued until their mailing traces show them sent, so the campaign
        stays in Sending until then.
        """
        self.ensure_one()
        planned = self.recipient_ids.filtered(lambda r: r.state == "planned")
        mailings = {}
        for channel in ("email", "sms"):
            if planned.filtered(lambda r, c=channel: r.channel == c):
                mailings[channel] = self._create_mailing(channel)
                mailings[channel]._fan_check_sendable()
        wechat = planned.filtered(lambda r: r.channel == "wechat")
        if wechat:
            self._send_wechat(wechat)
        now = fields.Datetime.now()
        for channel in ("email", "sms"):
            recipients = self.recipient_ids.filtered(
                lambda r, c=channel: r.state == "planned" and r.channel == c
            )
            if not recipients:
                continue
            mailing = mailings.get(channel) or self._create_mailing(channel)
            try:
                mailing._fan_check_sendable()
            except UserError as error:
                # Only fans who fell back from WeChat can land here.
                recipients.write({"state": "failed", "reason": str(error.args[0])})
                mailing.unlink()
                continue
            # The mailing's recipients are read from these lines (see
            # mailing.mailing._get_recipients_domain), so only they receive it.
            recipients.write({"state": "queued", "mailing_id": mailing.id})
            if channel == "email":
                mailing.action_send_mail()
            else:
                mailing.action_send_sms()
            mailing._fan_campaign_close_untraced()
        self._trigger_queues()
        # A retry keeps the first send's date, from which opt-outs are counted.
        self.write({"state": "sending", "sent_date": self.sent_date or now})
        self._update_send_state()
        if self.plan_warning:
            self._message_log(body=self.plan_warning)
        _logger.info(
            "Campaign %s sent: %s recipients planned, %s queued, %s unreachable, %s over the cap",
            self.id, len(planned), self.queued_count, self.unreachable_count, self.capped_count,
        )  # fmt: skip

    def _trigger_queues(self):
        """Trigger the crons that send the campaign's queued emails and held mailings now.

        Odoo sends a mass mailing's emails at once only up to the system
        parameter mail.mail.force.send.limit (100 recipients by default). Larger
        mailings leave their emails to the mail queue cron, which runs once an
        hour by default. Queued SMS need nothing here, because creating an SMS
        triggers the SMS queue cron.
        """
        mailings = self.mailing_ids
        outgoing = Domain("mailing_id", "in", mailings.ids) & Domain("state", "=", "outgoing")
        if self.env["mail.mail"].sudo().search_count(outgoing, limit=1):
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        # An SMS mailing held outside the sending window waits in the mailing queue.
        held = mailings.filtered(lambda m: m.state == "in_queue")
        if held:
            now = fields.Datetime.now()
            self.env.ref("mass_mailing.ir_cron_mass_mailing_queue").sudo()._trigger(
                mailing.schedule_date or now for mailing in held
            )

    def _update_send_state(self):
        """Set Sending campaigns to Sent once no recipient is queued, and back when one is."""
        for campaign in self.filtered(lambda c: c.state in ("sending", "sent")):
            queued = any(r.state == "queued" for r in campaign.recipient_ids)
            state = "sending" if queued else "sent"
            if campaign.state != state:
                campaign.state = state

    def _fall_back(self, recipients, reason):
        """Move each recipient to their next channel, or mark them failed when none is left."""
        channels = ",".join(sorted(set(recipients.mapped("channel"))))
        for recipient in recipients:
            fallbacks = [c for c in (recipient.fallback_channels or "").split(",") if c]
            if fallbacks:
                recipient.write(
                    {
                        "channel": fallbacks[0],
                        "fallback_channels": ",".join(fallbacks[1:]),
                        "wechat_method": False,
                        "reason": reason,
                    }
                )
            else:
                recipient.write({"state": "failed", "reason": reason})
        if recipients:
            _logger.info(
                "Campaign %s: %s recipients fell back from %s: %s",
                self.id,
                len(recipients),
                channels,
                reason,
            )

    def _prepare_retry(self, failed):
        """Plan the failed recipients again and return those to send."""
        retried = self.env["fan.campaign.recipient"]
        for recipient in failed:
            status = recipient.trace_id.trace_status
            fallbacks = [c for c in (recipient.fallback_channels or "").split(",") if c]
            values = {
                "state": "planned",
                "mailing_id": False,
                "trace_id": False,
                "wechat_mass_send_id": False,
            }
            left_out = recipient.state in ("cancelled", "opted_out")
            if left_out or (recipient.channel in ("email", "sms") and status == "bounce"):
                if not fallbacks:
                    continue
                # The reason stays, because it explains why that channel is not used.
                values.update(channel=fallbacks[0], fallback_channels=",".join(fallbacks[1:]))
            else:
                values["reason"] = False
            recipient.write(values)
            retried |= recipient
        wechat = retried.filtered(lambda r: r.channel == "wechat")
        if wechat:
            methods, reasons = self._wechat_reachable(wechat.partner_id)
            for recipient in wechat:
                method = methods.get(recipient.partner_id.id)
                if method:
                    recipient.wechat_method = method
                else:
                    reason = reasons.get(recipient.partner_id.id) or self.env._(
                        "The fan no longer follows the Official Account."
                    )
                    self._fall_back(recipient, reason)
        return retried.filtered(lambda r: r.state == "planned")

    def _create_mailing(self, channel):
        values = {
            "subject": self.email_subject if channel == "email" else self.name,
            "email_from": self.email_from,
            "mailing_type": "mail" if channel == "email" else "sms",
            "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            "fan_segment_id": self.segment_id.id,
            "fan_campaign_id": self.id,
        }
        if channel == "email":
            values["body_html"] = self._email_body_with_unsubscribe()
            values["body_arch"] = values["body_html"]
        else:
            values["body_plaintext"] = self.sms_body.strip()
        return self.env["mailing.mailing"].create(values)

    def _email_body_with_unsubscribe(self):
        body = str(self.email_body or "")
        if "/unsubscribe_from_list" in body:
            return body
        footer = self.env._("Don't want these emails any more?")
        link = self.env._("Unsubscribe")
        return (
            f'{body}<p style="font-size:12px;color:#888888">{footer} '
            f'<a href="/unsubscribe_from_list">{link}</a></p>'
        )
