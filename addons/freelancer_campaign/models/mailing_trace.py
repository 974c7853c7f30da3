from odoo import api, models

from .fan_campaign import FAILED_TRACE_STATES

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

        A recipient whose email or SMS failed (error, bounce, cancel) becomes
        failed, with the reason. One that the mailing's own retry delivered
        becomes sent again.
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
            if not recipient:
                continue
            values = {"trace_id": trace.id}
            if trace.trace_status in FAILED_TRACE_STATES:
                values.update(state="failed", reason=trace._fan_campaign_failure_reason())
            elif recipient.state == "failed":
                values.update(state="sent", reason=False)
            recipient.write(values)

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
