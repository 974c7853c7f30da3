import logging

from odoo import api, fields, models

from odoo.addons.freelancer_crm.tools import mask_phone

from .sms_provider_company import FAN_SMS_PROVIDERS

_logger = logging.getLogger(__name__)


class SmsTracker(models.Model):
    """Provider message id of a sent SMS, kept after the sms.sms is deleted.

    Delivery reports of Aliyun and Tencent Cloud name the message by this id
    and the number, and update the notification or mailing trace through it.
    """

    _inherit = "sms.tracker"

    fan_sms_provider = fields.Selection(FAN_SMS_PROVIDERS, string="SMS Gateway", readonly=True)
    fan_sms_provider_ref = fields.Char(
        string="Provider Message ID", readonly=True, index="btree_not_null"
    )
    fan_sms_number = fields.Char(string="Number", readonly=True)

    @api.model
    def _fan_process_delivery_reports(self, provider, reports):
        """Apply delivery reports parsed from a provider push and return the number applied.

        A report is matched by the SMS uuid when the provider returns it
        (Aliyun OutId), else by the provider message id and the number.
        """
        applied = 0
        for report in reports:
            tracker = self.browse()
            if report.get("uuid"):
                tracker = self.search([("sms_uuid", "=", report["uuid"])], limit=1)
            if not tracker and report.get("ref"):
                tracker = self.search(
                    [
                        ("fan_sms_provider", "=", provider),
                        ("fan_sms_provider_ref", "=", report["ref"]),
                        ("fan_sms_number", "=", report.get("number")),
                    ],
                    limit=1,
                )
            if not tracker:
                _logger.warning(
                    "%s delivery report for %s (message id %s) matches no SMS",
                    provider,
                    mask_phone(report.get("number")),
                    report.get("ref"),
                )
                continue
            if report["delivered"]:
                tracker._action_update_from_sms_state("sent")
            else:
                tracker.with_context(
                    sms_known_failure_reason=report.get("reason")
                )._action_update_from_provider_error("not_delivered")
            applied += 1
        return applied
