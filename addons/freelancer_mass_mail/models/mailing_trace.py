import logging

from odoo import fields, models
from odoo.fields import Domain

from ..tools import classify_bounce
from .sms_sms import FAN_FAILURE_TYPES

_logger = logging.getLogger(__name__)

BOUNCE_TYPES = [("hard", "Hard (permanent)"), ("soft", "Soft (transient)")]


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    fan_bounce_type = fields.Selection(
        BOUNCE_TYPES,
        string="Bounce Type",
        readonly=True,
        help="Hard: the address does not exist or rejects mail for good (status 5.x.x). "
        "Soft: a temporary failure such as a full mailbox (status 4.x.x or no status).",
    )
    fan_bounce_status = fields.Char(
        string="Bounce Status Code",
        readonly=True,
        help="Delivery status code of the bounce (RFC 3463), for example 5.1.1.",
    )

    # ------------------------------------------------------------
    # TRACKING OVERRIDES
    # ------------------------------------------------------------

    def set_opened(self, domain=None):
        traces = self + (self.search(domain) if domain else self.env["mailing.trace"])
        first_opens = traces.filtered(lambda t: t.trace_status not in ("open", "reply"))
        result = super(MailingTrace, traces).set_opened()
        first_opens._fan_log_interactions("email_open")
        return result

    def set_clicked(self, domain=None):
        traces = super().set_clicked(domain=domain)
        traces._fan_log_interactions("email_click")
        return traces

    def set_replied(self, domain=None):
        traces = super().set_replied(domain=domain)
        traces._fan_log_interactions("email_reply")
        return traces

    def set_bounced(self, domain=None, bounce_message=False):
        """Classify the bounce and suppress the address after a hard or repeated soft bounce.

        The DSN status comes from context key ``fan_bounce_status`` (set while
        routing the bounce email), else from the first status code in
        ``bounce_message``.
        """
        traces = super().set_bounced(domain=domain, bounce_message=bounce_message)
        status = self.env.context.get("fan_bounce_status")
        for trace in traces.filtered(lambda t: t.trace_type == "mail"):
            bounce_type, code = classify_bounce(status=status, text=bounce_message or "")
            trace.write({"fan_bounce_type": bounce_type, "fan_bounce_status": code})
            trace._fan_process_bounce()
        return traces

    # ------------------------------------------------------------
    # FAN TIMELINE AND CONSENT
    # ------------------------------------------------------------

    def _fan_get_partners(self):
        """Return the fans this email trace reached: its document or the fans with its address."""
        self.ensure_one()
        Partner = self.env["res.partner"].sudo()
        partners = Partner.browse()
        if self.model == "res.partner" and self.res_id:
            partners = Partner.browse(self.res_id).exists()
        elif self.email:
            partners = Partner.search([("email_normalized", "=", self.email)])
        return partners.filtered("is_fan")

    def _fan_log_interactions(self, interaction_type):
        for trace in self.filtered(lambda t: t.trace_type == "mail" and t.mass_mailing_id):
            partners = trace._fan_get_partners()
            if partners:
                partners._fan_log_interaction(
                    interaction_type,
                    name=trace.mass_mailing_id.subject,
                    res_model="mailing.mailing",
                    res_id=trace.mass_mailing_id.id,
                )

    def _fan_process_bounce(self):
        """Log the bounce on the fans' timelines and withdraw email consent when needed.

        A hard bounce withdraws at once. Soft bounces withdraw once the address
        collects ``soft_bounce_limit`` of them within ``soft_bounce_window_days``.
        """
        self.ensure_one()
        partners = self._fan_get_partners()
        if not partners:
            return
        Mailing = self.env["mailing.mailing"]
        label = (
            self.env._("Hard bounce")
            if self.fan_bounce_type == "hard"
            else self.env._("Soft bounce")
        )
        summary = f"{label} {self.fan_bounce_status or ''}".strip()
        partners._fan_log_interaction(
            "email_bounce", name=summary, res_model="mailing.trace", res_id=self.id
        )

        suppress = self.fan_bounce_type == "hard"
        if not suppress:
            window_days = Mailing._fan_param("soft_bounce_window_days")
            since = fields.Datetime.subtract(fields.Datetime.now(), days=window_days)
            soft_count = self.sudo().search_count(
                Domain("email", "=", self.email)
                & Domain("fan_bounce_type", "=", "soft")
                & Domain("write_date", ">=", since)
            )
            suppress = soft_count >= Mailing._fan_param("soft_bounce_limit")
        if not suppress:
            return
        to_withdraw = partners.filtered(lambda p: p.consent_email != "withdrawn")
        if to_withdraw:
            to_withdraw._fan_record_consent(
                "email",
                "withdraw",
                "bounce",
                address=self.email,
                proof=self.env._(
                    "%(summary)s on mailing %(mailing)s",
                    summary=summary,
                    mailing=self.mass_mailing_id.subject or "-",
                ),
                res_model="mailing.trace",
                res_id=self.id,
            )
            _logger.info(
                "Email consent withdrawn for partners %s after %s bounce on trace %s",
                to_withdraw.ids,
                self.fan_bounce_type,
                self.id,
            )

    failure_type = fields.Selection(selection_add=FAN_FAILURE_TYPES)
