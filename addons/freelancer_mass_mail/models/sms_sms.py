import datetime
import logging

import pytz

from odoo import api, fields, models
from odoo.fields import Domain

from odoo.addons.freelancer_crm.tools import mask_phone

from ..tools import in_sending_window, is_opt_out_reply, next_window_start
from ..tools.sms_provider_common import STATE_OUTCOME_UNKNOWN, FanSmsApiBase

_logger = logging.getLogger(__name__)

FAN_FAILURE_TYPES = [
    (STATE_OUTCOME_UNKNOWN, "Outcome Unknown, Check Before Resending"),
    ("fan_sms_daily_cap", "Daily Cap per Number Reached"),
]
ATTEMPT_STATES = [
    ("requested", "Request Sent"),
    ("accepted", "Accepted by Provider"),
    ("rejected", "Rejected by Provider"),
    ("unknown", "Outcome Unknown"),
]


class SmsSms(models.Model):
    """Sending rules for SMS of mailings, on top of the chosen provider.

    Mailing SMS (those with a ``mailing_id``) are sent only inside the daytime
    window and within the daily cap per number. With the Aliyun and Tencent
    Cloud providers ``fan_sms_attempt_state`` is written before the request,
    and an SMS whose request went out is not sent again automatically. The SMS
    queue cron commits that state before the request. Other callers do not, so
    a rollback after their request can lose it.
    """

    _inherit = "sms.sms"

    failure_type = fields.Selection(selection_add=FAN_FAILURE_TYPES)
    fan_sms_attempt_state = fields.Selection(
        ATTEMPT_STATES,
        string="Provider Request",
        readonly=True,
        copy=False,
        help="Request Sent: the request left but no response was stored yet. Outcome "
        "Unknown: the provider did not respond in time. In both cases the SMS may have "
        "been sent, so it is not sent again automatically.",
    )
    fan_sms_provider_ref = fields.Char(
        string="Provider Message ID",
        readonly=True,
        copy=False,
        help="BizId (Aliyun) or SerialNo (Tencent Cloud) returned by the provider.",
    )

    # ------------------------------------------------------------
    # SEND
    # ------------------------------------------------------------

    def _split_by_api(self):
        """Send through the provider of each SMS's company when it is Aliyun or Tencent Cloud."""
        by_company = self.grouped(lambda sms: sms._get_sms_company())
        others = self.browse()
        for company, company_sms in by_company.items():
            if company.fan_sms_provider in ("aliyun", "tencent"):
                sms_api = company._get_sms_api_class()(self.env)
                sms_api._set_company(company)
                yield sms_api, company_sms
            else:
                others |= company_sms
        if others:
            yield from super(SmsSms, others)._split_by_api()

    def _send_with_api(self, sms_api, unlink_failed=False, unlink_sent=True, raise_exception=False):
        to_send = self._fan_filter_sendable()
        if not to_send:
            return None
        if isinstance(sms_api, FanSmsApiBase):
            to_send._fan_mark_requested()
        provider = getattr(sms_api, "PROVIDER", None)
        return super(SmsSms, to_send.with_context(fan_sms_provider=provider))._send_with_api(
            sms_api,
            unlink_failed=unlink_failed,
            unlink_sent=unlink_sent,
            raise_exception=raise_exception,
        )

    @api.model
    def _process_queue(self):
        """Send queued SMS, leaving mailing SMS queued while the sending window is closed.

        Mailing SMS are left out of the search, not skipped after it, so they
        do not fill every batch and keep the cron running.
        """
        window_open = self._fan_window_open()
        if window_open:
            return super(
                SmsSms, self.with_context(fan_sms_commit_before_send=True)
            )._process_queue()

        self._fan_trigger_at_window_start()
        domain = [("state", "=", "outgoing"), ("to_delete", "!=", True), ("mailing_id", "=", False)]
        batch_size = self._get_send_batch_size()
        records = self.search(domain, limit=batch_size, order="id").try_lock_for_update()
        if not records:
            return None
        records.with_context(fan_sms_commit_before_send=True)._send(
            unlink_failed=False, unlink_sent=True, raise_exception=False
        )
        remaining = self.search_count(domain) if len(records) == batch_size else 0
        self.env["ir.cron"]._commit_progress(len(records), remaining=remaining)
        return None

    def _handle_call_result_hook(self, results):
        hook_result = super()._handle_call_result_hook(results)
        by_uuid = {
            result["uuid"]: result for result in results if "fan_sms_attempt_state" in result
        }
        for sms in self.filtered(lambda s: s.uuid in by_uuid):
            result = by_uuid[sms.uuid]
            values = {"fan_sms_attempt_state": result["fan_sms_attempt_state"]}
            if result.get("fan_sms_provider_ref"):
                values["fan_sms_provider_ref"] = result["fan_sms_provider_ref"]
            sms.write(values)
            if sms.sms_tracker_id:
                sms.sms_tracker_id.write(
                    {
                        "fan_sms_provider": self.env.context.get("fan_sms_provider") or False,
                        "fan_sms_provider_ref": result.get("fan_sms_provider_ref") or False,
                        "fan_sms_number": sms.number,
                    }
                )
        return hook_result

    # ------------------------------------------------------------
    # SENDING RULES
    # ------------------------------------------------------------

    def _fan_filter_sendable(self):
        """Return the SMS that may be sent now; update the others.

        - An SMS whose provider request already left is not sent again: an
          accepted one is set back to Sent, and one with an unknown outcome is
          set to Error for a person to check.
        - Mailing SMS stay queued outside the sending window.
        - Mailing SMS over the daily cap of their number are cancelled.
        """
        accepted = self.filtered(lambda sms: sms.fan_sms_attempt_state == "accepted")
        if accepted:
            accepted._update_sms_state_and_trackers("pending")
            _logger.warning(
                "SMS %s were already accepted by the provider, not sent again", accepted.ids
            )
        unknown = self.filtered(lambda sms: sms.fan_sms_attempt_state in ("requested", "unknown"))
        if unknown:
            unknown._update_sms_state_and_trackers("error", failure_type=STATE_OUTCOME_UNKNOWN)
            _logger.warning(
                "SMS %s may have been sent already (outcome unknown), not sent again", unknown.ids
            )
        candidates = self - accepted - unknown

        marketing = candidates.filtered("mailing_id")
        if marketing and not self._fan_window_open():
            self._fan_trigger_at_window_start()
            _logger.info("Mailing SMS %s held until the sending window opens", marketing.ids)
            return candidates - marketing

        over_cap = marketing._fan_over_daily_cap()
        if over_cap:
            over_cap._update_sms_state_and_trackers("canceled", failure_type="fan_sms_daily_cap")
            _logger.info(
                "Mailing SMS %s cancelled: daily cap reached for %s",
                over_cap.ids,
                ", ".join(sorted({mask_phone(n) for n in over_cap.mapped("number")})),
            )
        return candidates - over_cap

    def _fan_mark_requested(self):
        """Record that the provider request is about to leave.

        In the SMS queue cron this is committed before the request, so a crash
        or rollback after the request leaves the SMS in Processing with
        ``Request Sent``, never back in the queue.
        """
        self.write({"state": "process", "fan_sms_attempt_state": "requested"})
        if self.env.context.get("fan_sms_commit_before_send"):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _fan_window(self):
        Mailing = self.env["mailing.mailing"]
        return (
            Mailing._fan_param("sms_window_start"),
            Mailing._fan_param("sms_window_end"),
            Mailing._fan_param("sms_window_tz"),
        )

    @api.model
    def _fan_window_open(self):
        return in_sending_window(fields.Datetime.now(), *self._fan_window())

    @api.model
    def _fan_trigger_at_window_start(self):
        resume_at = next_window_start(fields.Datetime.now(), *self._fan_window())
        self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger(resume_at)

    def _fan_over_daily_cap(self):
        """Return the SMS that would exceed the daily cap of mailing SMS to their number.

        The day is the local day of the sending window's time zone. Mailing SMS
        already sent today are counted from the mailing traces.
        """
        cap = self.env["mailing.mailing"]._fan_param("sms_daily_cap")
        if cap <= 0 or not self:
            return self.browse()
        _start, _end, tz_name = self._fan_window()
        tz = pytz.timezone(tz_name)
        local_now = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        day_start = tz.localize(datetime.datetime.combine(local_now.date(), datetime.time()))
        day_start_utc = day_start.astimezone(pytz.utc).replace(tzinfo=None)
        numbers = list(set(self.mapped("number")) - {False})
        sent_counts = dict(
            self.env["mailing.trace"]
            .sudo()
            ._read_group(
                Domain("trace_type", "=", "sms")
                & Domain("sms_number", "in", numbers)
                & Domain("sent_datetime", ">=", day_start_utc),
                ["sms_number"],
                ["__count"],
            )
        )
        over_cap = self.browse()
        for sms in self.sorted("id"):
            count = sent_counts.get(sms.number, 0)
            if count >= cap:
                over_cap |= sms
            else:
                sent_counts[sms.number] = count + 1
        return over_cap

    # ------------------------------------------------------------
    # INCOMING REPLIES
    # ------------------------------------------------------------

    @api.model
    def _fan_process_reply(self, provider, number, text):
        """Process an SMS reply pushed by ``provider`` from E.164 ``number``.

        An opt-out keyword (T, TD, R, N) withdraws SMS consent of the fans
        with that number (source SMS Reply), adds the number to the phone
        blocklist and cancels SMS still queued for it. Other replies are added
        to the fans' interactions.
        """
        partners = (
            self.env["res.partner"]
            .sudo()
            .search([("fan_mobile", "=", number), ("is_fan", "=", True)])
        )
        if not is_opt_out_reply(text):
            partners._fan_log_interaction("sms_reply", name=(text or "")[:200])
            _logger.info(
                "SMS reply from %s logged for partners %s", mask_phone(number), partners.ids
            )
            return "reply"

        to_withdraw = partners.filtered(lambda p: p.consent_sms != "withdrawn")
        if to_withdraw:
            to_withdraw._fan_record_consent(
                "sms",
                "withdraw",
                "sms_reply",
                address=number,
                proof=self.env._(
                    "SMS reply %(text)s through %(provider)s", text=repr(text), provider=provider
                ),
            )
        blocklist = (
            self.env["phone.blacklist"]
            .sudo()
            .add(
                number,
                message=self.env._("Opt-out by SMS reply through %(provider)s", provider=provider),
            )
        )
        queued = self.sudo().search([("number", "=", number), ("state", "=", "outgoing")])
        queued.action_set_canceled()
        _logger.info(
            "SMS opt-out reply from %s: consent withdrawn for partners %s, blocklist entry %s, "
            "%s queued SMS cancelled",
            mask_phone(number),
            to_withdraw.ids,
            blocklist.id,
            len(queued),
        )
        return "opt_out"
