from odoo import api, models

from ..tools import extract_dsn_status


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        # Pass the DSN status code to mailing.trace.set_bounced, which only
        # receives the bounce body as plain text.
        status = extract_dsn_status(email_message) if email_message else None
        thread = self.with_context(fan_bounce_status=status)
        return super(MailThread, thread)._routing_handle_bounce(email_message, message_dict)
