from odoo import fields, models

from .sms_sms import FAN_FAILURE_TYPES


class MailNotification(models.Model):
    _inherit = "mail.notification"

    # The SMS trackers copy the SMS failure type to the notifications of SMS
    # sent from the chatter.
    failure_type = fields.Selection(selection_add=FAN_FAILURE_TYPES)
