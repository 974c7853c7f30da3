import logging

from odoo import api, models
from odoo.fields import Domain
from odoo.tools import email_normalize

_logger = logging.getLogger(__name__)


class FanConsent(models.Model):
    _inherit = "fan.consent"

    @api.model_create_multi
    def create(self, vals_list):
        entries = super().create(vals_list)
        withdrawals = entries.filtered(lambda e: e.action == "withdraw")
        withdrawals.filtered(lambda e: e.channel == "email")._fan_cancel_queued_mail()
        withdrawals.filtered(lambda e: e.channel == "sms")._fan_cancel_queued_sms()
        return entries

    def _fan_cancel_queued_mail(self):
        """Cancel the mailing emails still queued for the withdrawn partners or addresses."""
        if not self:
            return
        emails = {email_normalize(e.address) for e in self if e.address}
        emails |= set(self.partner_id.mapped("email_normalized"))
        emails.discard(False)
        emails.discard(None)
        recipients = Domain("model", "=", "res.partner") & Domain(
            "res_id", "in", self.partner_id.ids
        )
        if emails:
            recipients |= Domain("email", "in", list(emails))
        traces = (
            self.env["mailing.trace"]
            .sudo()
            .search(
                Domain("trace_type", "=", "mail")
                & Domain("trace_status", "in", ["outgoing", "process"])
                & recipients
            )
        )
        mails = traces.mail_mail_id.filtered(lambda m: m.state == "outgoing")
        if mails:
            mails.cancel()
            mails.mailing_trace_ids.set_canceled()
            _logger.info(
                "Cancelled %s queued mailing emails after consent withdrawal of partners %s",
                len(mails),
                self.partner_id.ids,
            )

    def _fan_cancel_queued_sms(self):
        """Cancel the mailing SMS still queued for the withdrawn partners."""
        if not self:
            return
        numbers = set(self.partner_id.mapped("fan_mobile")) | {e.address for e in self if e.address}
        numbers.discard(False)
        recipients = Domain("model", "=", "res.partner") & Domain(
            "res_id", "in", self.partner_id.ids
        )
        if numbers:
            recipients |= Domain("sms_number", "in", list(numbers))
        traces = (
            self.env["mailing.trace"]
            .sudo()
            .search(
                Domain("trace_type", "=", "sms")
                & Domain("trace_status", "in", ["outgoing", "process"])
                & recipients
            )
        )
        sms = self.env["sms.sms"].sudo().browse(traces.mapped("sms_id_int")).exists()
        sms = sms.filtered(lambda s: s.state == "outgoing")
        if sms:
            sms.action_set_canceled()
            traces.filtered(lambda t: t.sms_id_int in sms.ids).set_canceled()
            _logger.info(
                "Cancelled %s queued mailing SMS after consent withdrawal of partners %s",
                len(sms),
                self.partner_id.ids,
            )
