from odoo import api, fields, models

from .fan_campaign import DELIVERED_TRACE_STATES, OPT_OUT_FAILURE_TYPES, QUEUED_TRACE_STATES

# Characters of a server's failure message kept in a recipient's reason.
MAX_FAILURE_DETAIL = 200


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    @api.model_create_multi
    def create(self, vals_list):
        traces = super().create(vals_list)
        traces._fan_campaign_update_recipients()
        return traces

    def write(self, vals):
        result = super().write(vals)
        if "trace_status" in vals:
            self._fan_campaign_update_recipients()
        return result

    def _fan_campaign_update_recipients(self):
        """Copy the status of campaign traces to the campaign recipients they belong to.

        A queued trace keeps its recipient queued, a delivered one makes it
        sent, a refused or bounced one failed, and a cancelled one cancelled,
        or opted out when the fan opted out or is blocklisted. The campaigns
        then move from Sending to Sent once none of their recipients is queued.
        """
        traces = self.filtered(
            lambda t: t.model == "res.partner" and t.mass_mailing_id.fan_campaign_id
        )
        if not traces:
            return
        # sudo: the mail queue may update traces as a user without rights on
        # campaign recipients, and this only copies the trace status to them.
        recipients = (
            self.env["fan.campaign.recipient"]
            .sudo()
            .search(
                [
                    ("mailing_id", "in", traces.mass_mailing_id.ids),
                    ("partner_id", "in", traces.mapped("res_id")),
                ]
            )
        )
        by_key = {(r.mailing_id.id, r.partner_id.id): r for r in recipients}
        for trace in traces:
            recipient = by_key.get((trace.mass_mailing_id.id, trace.res_id))
            if recipient:
                recipient.write(trace._fan_campaign_recipient_values(recipient))
        recipients.campaign_id._update_send_state()

    def _fan_campaign_recipient_values(self, recipient):
        self.ensure_one()
        values = {"trace_id": self.id}
        status = self.trace_status
        if status in QUEUED_TRACE_STATES:
            values["state"] = "queued"
        elif status in DELIVERED_TRACE_STATES:
            if recipient.state != "sent":
                values.update(state="sent", sent_date=self.sent_datetime or fields.Datetime.now())
            if recipient.state == "failed":
                # Delivered by the mailing's own retry: the failure no longer applies.
                values["reason"] = False
        elif status == "cancel" and (
            self.failure_type in OPT_OUT_FAILURE_TYPES or recipient._fan_opted_out()
        ):
            values.update(state="opted_out", reason=recipient._fan_opt_out_reason())
        elif status == "cancel":
            values.update(state="cancelled", reason=self._fan_campaign_failure_reason())
        else:
            values.update(state="failed", reason=self._fan_campaign_failure_reason())
        return values

    def _fan_campaign_failure_reason(self):
        self.ensure_one()
        statuses = dict(self._fields["trace_status"]._description_selection(self.env))
        failures = dict(self._fields["failure_type"]._description_selection(self.env))
        details = [
            failures.get(self.failure_type) or "",
            (self.failure_reason or self.sudo().mail_mail_id.failure_reason or "")[
                :MAX_FAILURE_DETAIL
            ],
        ]
        detail = ", ".join(part.strip() for part in details if part and part.strip())
        status = statuses.get(self.trace_status, self.trace_status)
        if not detail:
            return status
        return self.env._("%(status)s: %(detail)s", status=status, detail=detail)
