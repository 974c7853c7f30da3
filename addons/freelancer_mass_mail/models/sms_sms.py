import datetime
import logging

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from odoo.addons.freelancer_crm.tools import mask_phone

from ..tools import in_sending_window, is_opt_out_reply, next_window_start
from ..tools.sms_provider_common import (
    QUERY_DELIVERED,
    QUERY_NOT_SENT,
    QUERY_SENT,
    QUERY_UNDELIVERED,
    STATE_OUTCOME_UNKNOWN,
    FanSmsApiBase,
)
from .sms_provider_company import FAN_SMS_API_CLASSES, FAN_SMS_PROVIDERS

_logger = logging.getLogger(__name__)

FAN_FAILURE_TYPES = [
    (STATE_OUTCOME_UNKNOWN, "Outcome Unknown, Check Before Resending"),
    ("fan_sms_not_sent", "Not Sent, Safe to Resend"),
    # Only on SMS cancelled by earlier versions, whose daily cap cancelled SMS
    # instead of postponing them.
    ("fan_sms_daily_cap", "Daily Cap per Number Reached"),
]
ATTEMPT_STATES = [
    ("requested", "Request Sent"),
    ("accepted", "Accepted by Provider"),
    ("rejected", "Rejected by Provider"),
    ("unknown", "Outcome Unknown"),
    ("undelivered", "Not Delivered"),
    ("not_sent", "Not Sent"),
]
# Attempt states of an SMS that may have reached the provider. Such an SMS is
# never sent again until a status query or a user settles it.
OUTCOME_UNKNOWN_ATTEMPTS = ("requested", "unknown")
# A request claimed less than this long ago may still be waiting for its
# response in the SMS queue cron (FanSmsApiBase.TIMEOUT is 10 seconds), and a
# provider may list a message a little after accepting it.
STATUS_CHECK_DELAY = datetime.timedelta(minutes=15)
# The scheduled action checks one SMS at most once in this interval.
STATUS_CHECK_INTERVAL = datetime.timedelta(hours=1)
# Aliyun keeps 30 days of records and Tencent Cloud reports 7 days: older SMS
# are left to a person.
STATUS_CHECK_MAX_AGE = datetime.timedelta(days=30)


class SmsSms(models.Model):
    """Sending rules for SMS of mailings, on top of the chosen provider.

    Mailing SMS (those with a ``mailing_id``) are sent only inside the daytime
    window and within the daily cap per number. With the Aliyun and Tencent
    Cloud providers every SMS is sent by the SMS queue cron, which commits
    ``fan_sms_attempt_state`` = Request Sent before the provider request, and
    an SMS whose request went out is not sent again automatically.

    An SMS whose request timed out (Outcome Unknown), or whose transaction
    stopped after the request (Request Sent), is resolved by asking the
    provider, from a scheduled action and a button, or by a user who marks it
    as sent or as not sent.
    """

    _inherit = "sms.sms"

    failure_type = fields.Selection(
        selection_add=[*FAN_FAILURE_TYPES, ("sms_not_delivered", "Not Delivered")]
    )
    fan_sms_attempt_state = fields.Selection(
        ATTEMPT_STATES,
        string="Provider Request",
        readonly=True,
        copy=False,
        help="Request Sent: the request left but no response was stored yet. Outcome "
        "Unknown: the provider did not respond in time. In both cases the SMS may have "
        "been sent, so it is not sent again automatically: check its status with the "
        "provider, or mark it as sent or not sent. Not Sent: the provider has no record "
        "of it, or a user marked it so, and it can be sent again.",
    )
    fan_sms_provider = fields.Selection(
        FAN_SMS_PROVIDERS, string="SMS Gateway", readonly=True, copy=False
    )
    fan_sms_provider_ref = fields.Char(
        string="Provider Message ID",
        readonly=True,
        copy=False,
        help="BizId (Aliyun) or SerialNo (Tencent Cloud) returned by the provider.",
    )
    fan_sms_requested_at = fields.Datetime(
        string="Request Sent On",
        readonly=True,
        copy=False,
        help="When the last provider request for this SMS left.",
    )
    fan_sms_send_after = fields.Datetime(
        string="Postponed Until",
        readonly=True,
        copy=False,
        help="The daily cap of this number was reached: the SMS waits in the queue until "
        "the next day's sending window opens.",
    )
    fan_sms_status_checked_at = fields.Datetime(
        string="Status Checked On",
        readonly=True,
        copy=False,
        help="When the provider was last asked about this SMS, whose outcome is unknown.",
    )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if (
            self.env.context.get("fan_sms_test_send")
            and self.env.company.fan_sms_provider in FAN_SMS_API_CLASSES
        ):
            # Test SMS of mailing.sms.test: the wizard sends them itself.
            for vals in vals_list:
                vals.update(state="process", to_delete=True)
        return super().create(vals_list)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_outgoing(self):
        uncertain = self.filtered(lambda sms: sms.fan_sms_attempt_state in OUTCOME_UNKNOWN_ATTEMPTS)
        if uncertain:
            raise UserError(
                self.env._(
                    "The provider may have received SMS %(numbers)s already, so they are not "
                    "queued again. Check their status with the provider, or mark them as sent "
                    "or not sent.",
                    numbers=", ".join(uncertain.mapped("number")),
                )
            )
        result = super().action_set_outgoing()
        self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger()
        return result

    def resend_failed(self):
        """Resend failed SMS, except those the provider may have received already.

        Through Aliyun or Tencent Cloud the SMS go back to the queue and the
        SMS queue cron sends them, so the notification reports them as queued.
        """
        uncertain = self.filtered(
            lambda sms: (
                sms.state in ("error", "process")
                and sms.fan_sms_attempt_state in OUTCOME_UNKNOWN_ATTEMPTS
            )
        )
        by_queue = (self - uncertain).filtered(
            lambda sms: sms.state == "error" and not sms.to_delete and sms._fan_sent_by_queue()
        )
        others = self - uncertain - by_queue
        if not uncertain and not by_queue:
            return super().resend_failed()

        if others:
            # The other SMS of a mixed selection are resent as usual, and the
            # notification below reports only the SMS of the queue.
            super(SmsSms, others).resend_failed()
        by_queue._update_sms_state_and_trackers("outgoing")
        by_queue._fan_hand_to_queue()
        messages = []
        if by_queue:
            messages.append(
                self.env._(
                    "%(count)s SMS are back in the queue and will be sent in a few minutes.",
                    count=len(by_queue),
                )
            )
        if uncertain:
            messages.append(
                self.env._(
                    "%(count)s SMS were not resent because the provider may have received them "
                    "already. Check their status with the provider, or mark them as not sent "
                    "first.",
                    count=len(uncertain),
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Resend SMS"),
                "message": " ".join(messages),
                "type": "warning" if uncertain else "success",
            },
        }

    def action_fan_check_status(self):
        """Ask the provider about the selected SMS now and report what was found."""
        counts = self._fan_uncertain()._fan_check_provider_status(
            fields.Datetime.now() - STATUS_CHECK_DELAY
        )
        message = self.env._(
            "Delivered or sent: %(sent)s. Not delivered: %(undelivered)s. Not sent, can be "
            "resent: %(not_sent)s. Still unknown: %(unknown)s.",
            **counts,
        )
        if counts["recent"]:
            message += " " + self.env._(
                "%(count)s SMS were requested less than 15 minutes ago and are checked later.",
                count=counts["recent"],
            )
        return self._fan_notify(self.env._("SMS Status"), message, "info")

    def action_fan_mark_sent(self):
        """Record that the selected SMS reached the provider, after a check in its console."""
        uncertain = self._fan_check_uncertain()
        uncertain.write({"fan_sms_attempt_state": "accepted", "failure_type": False})
        uncertain._update_sms_state_and_trackers("pending")
        _logger.info("SMS %s marked as sent by user %s", uncertain.ids, self.env.uid)
        message = self.env._("%(count)s SMS marked as sent.", count=len(uncertain))
        return self._fan_notify(self.env._("SMS Status"), message, "success")

    def action_fan_mark_not_sent(self):
        """Put the selected SMS back in the queue, for one more request each.

        The next request is committed as Request Sent again, so a second
        unknown outcome needs a second decision.
        """
        uncertain = self._fan_check_uncertain()
        uncertain.write({"fan_sms_attempt_state": "not_sent"})
        uncertain._fan_requeue()
        _logger.info("SMS %s marked as not sent by user %s", uncertain.ids, self.env.uid)
        message = self.env._(
            "%(count)s SMS marked as not sent and put back in the queue.", count=len(uncertain)
        )
        return self._fan_notify(self.env._("SMS Status"), message, "success")

    # ------------------------------------------------------------
    # SEND
    # ------------------------------------------------------------

    def _split_by_api(self):
        """Send through the provider of each SMS's company when it is Aliyun or Tencent Cloud."""
        by_company = self.grouped(lambda sms: sms._get_sms_company())
        others = self.browse()
        for company, company_sms in by_company.items():
            if company.fan_sms_provider in FAN_SMS_API_CLASSES:
                sms_api = company._get_sms_api_class()(self.env)
                sms_api._set_company(company)
                yield sms_api, company_sms
            else:
                others |= company_sms
        if others:
            yield from super(SmsSms, others)._split_by_api()

    def _send_with_api(self, sms_api, unlink_failed=False, unlink_sent=True, raise_exception=False):
        """Apply the sending rules, then send; leave Aliyun and Tencent Cloud SMS to the cron.

        Outside the SMS queue cron (``send()``, *Send Directly*, *Retry*),
        SMS of these two providers stay In Queue and the cron is triggered.
        The caller's transaction could roll back after the provider request
        and leave them In Queue, to be sent a second time.
        """
        is_fan_api = isinstance(sms_api, FanSmsApiBase)
        in_queue_cron = self.env.context.get("fan_sms_commit_before_send")
        if is_fan_api and not in_queue_cron:
            self._fan_hand_to_queue()
            return None

        to_send = self
        if in_queue_cron:
            # An earlier batch of this cron run committed, which released the
            # row locks of the search: lock again, and skip the SMS that left
            # the queue meanwhile.
            self.invalidate_recordset(["state"])
            to_send = self.try_lock_for_update().filtered(lambda sms: sms.state == "outgoing")
        to_send = to_send._fan_filter_sendable()
        if not to_send:
            return None
        if is_fan_api:
            to_send._fan_mark_requested(sms_api.PROVIDER)
        provider = getattr(sms_api, "PROVIDER", None)
        return super(SmsSms, to_send.with_context(fan_sms_provider=provider))._send_with_api(
            sms_api,
            unlink_failed=unlink_failed,
            unlink_sent=unlink_sent,
            raise_exception=raise_exception,
        )

    @api.model
    def _process_queue(self):
        """Send queued SMS as the stock SMS queue cron does, with the sending rules.

        Mailing SMS, while the sending window is closed, and SMS postponed by
        the daily cap are left out of the search, not skipped after it, so
        they do not fill every batch and keep the cron running. Each batch
        goes to the provider of its company, and Aliyun and Tencent Cloud SMS
        are committed as Request Sent before their request.
        """
        domain = self._fan_queue_domain()
        batch_size = self._get_send_batch_size()
        records = self.search(domain, limit=batch_size, order="id").try_lock_for_update()
        if not records:
            return None
        for sms_api, api_sms in records._split_by_api():
            api_sms.with_context(sms_api=sms_api, fan_sms_commit_before_send=True)._send(
                unlink_failed=False, unlink_sent=True, raise_exception=False
            )
        remaining = self.search_count(domain) if len(records) == batch_size else 0
        self.env["ir.cron"]._commit_progress(len(records), remaining=remaining)
        return None

    @api.model
    def _fan_queue_domain(self):
        now = fields.Datetime.now()
        domain = (
            Domain("state", "=", "outgoing")
            & Domain("to_delete", "!=", True)
            & (Domain("fan_sms_send_after", "=", False) | Domain("fan_sms_send_after", "<=", now))
        )
        if not self._fan_window_open():
            self._fan_trigger_at_window_start()
            domain &= Domain("mailing_id", "=", False)
        return domain

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
            sms._fan_write_tracker(result.get("fan_sms_provider_ref"))
        return hook_result

    def _fan_write_tracker(self, provider_ref):
        """Store the provider and its message id on the tracker, which outlives the SMS."""
        self.ensure_one()
        if self.sms_tracker_id:
            self.sms_tracker_id.write(
                {
                    "fan_sms_provider": self.fan_sms_provider
                    or self.env.context.get("fan_sms_provider")
                    or False,
                    "fan_sms_provider_ref": provider_ref or False,
                    "fan_sms_number": self.number,
                }
            )

    def _fan_sent_by_queue(self):
        """Return True when the SMS is sent through Aliyun or Tencent Cloud, by the queue cron."""
        self.ensure_one()
        return self._get_sms_company().fan_sms_provider in FAN_SMS_API_CLASSES

    def _fan_hand_to_queue(self):
        if not self:
            return
        self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger()
        _logger.info("SMS %s left to the SMS queue cron, which sends them", self.ids)

    # ------------------------------------------------------------
    # SENDING RULES
    # ------------------------------------------------------------

    def _fan_filter_sendable(self):
        """Return the SMS that may be sent now, and update the others.

        - An SMS whose provider request already left is not sent again: an
          accepted one is set back to Sent, and one with an unknown outcome is
          set to Error until its status is checked with the provider.
        - SMS postponed by the daily cap wait until their time.
        - Mailing SMS stay queued outside the sending window.
        - Mailing SMS over the daily cap of their number are postponed to the
          next day's sending window.
        """
        accepted = self.filtered(lambda sms: sms.fan_sms_attempt_state == "accepted")
        if accepted:
            accepted._update_sms_state_and_trackers("pending")
            _logger.warning(
                "SMS %s were already accepted by the provider, not sent again", accepted.ids
            )
        unknown = self.filtered(lambda sms: sms.fan_sms_attempt_state in OUTCOME_UNKNOWN_ATTEMPTS)
        if unknown:
            unknown._update_sms_state_and_trackers("error", failure_type=STATE_OUTCOME_UNKNOWN)
            _logger.warning(
                "SMS %s may have been sent already (outcome unknown), not sent again", unknown.ids
            )
        now = fields.Datetime.now()
        postponed = self.filtered(
            lambda sms: sms.fan_sms_send_after and sms.fan_sms_send_after > now
        )
        candidates = self - accepted - unknown - postponed

        marketing = candidates.filtered("mailing_id")
        if marketing and not self._fan_window_open():
            self._fan_trigger_at_window_start()
            _logger.info("Mailing SMS %s held until the sending window opens", marketing.ids)
            return candidates - marketing

        over_cap = marketing._fan_over_daily_cap()
        if over_cap:
            over_cap._fan_postpone_to_next_window()
        return candidates - over_cap

    def _fan_mark_requested(self, provider):
        """Record that the provider request is about to leave.

        In the SMS queue cron this is committed before the request, so a crash
        or rollback after the request leaves the SMS in Processing with
        ``Request Sent``, never back in the queue.
        """
        self.write(
            {
                "state": "process",
                "fan_sms_attempt_state": "requested",
                "fan_sms_provider": provider,
                "fan_sms_requested_at": fields.Datetime.now(),
            }
        )
        if self.env.context.get("fan_sms_commit_before_send"):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _fan_postpone_to_next_window(self):
        """Keep the SMS queued until the next day's sending window opens.

        The SMS are sent inside the window, so the next window start is on
        the next day, when the daily cap counts again.
        """
        resume_at = next_window_start(fields.Datetime.now(), *self._fan_window())
        self.write({"fan_sms_send_after": resume_at})
        self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger(resume_at)
        _logger.info(
            "Mailing SMS %s postponed to %s UTC: daily cap reached for %s",
            self.ids,
            resume_at,
            ", ".join(sorted({mask_phone(n) for n in self.mapped("number")})),
        )

    @api.model
    def _fan_window(self):
        """Return the SMS window ``(start, end, tz_name)``, or raise a UserError if invalid."""
        return self.env["mailing.mailing"]._fan_sms_window()

    @api.model
    def _fan_valid_window(self):
        """Return the SMS window, or None after logging why the stored settings are invalid.

        The queue keeps mailing SMS while the settings are invalid, so no SMS
        leaves outside the window or over the cap.
        """
        try:
            return self._fan_window()
        except UserError as error:
            _logger.error("Mailing SMS stay queued: %s", error)
            return None

    @api.model
    def _fan_window_open(self):
        window = self._fan_valid_window()
        return bool(window) and in_sending_window(fields.Datetime.now(), *window)

    @api.model
    def _fan_trigger_at_window_start(self):
        window = self._fan_valid_window()
        if window:
            resume_at = next_window_start(fields.Datetime.now(), *window)
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
    # OUTCOME UNKNOWN: STATUS QUERIES
    # ------------------------------------------------------------

    @api.model
    def _cron_fan_check_status(self):
        """Ask the providers about SMS whose outcome is unknown, each at most once an hour."""
        now = fields.Datetime.now()
        domain = (
            Domain("fan_sms_attempt_state", "in", OUTCOME_UNKNOWN_ATTEMPTS)
            & Domain("to_delete", "!=", True)
            & Domain("fan_sms_requested_at", "<=", now - STATUS_CHECK_DELAY)
            & Domain("fan_sms_requested_at", ">=", now - STATUS_CHECK_MAX_AGE)
            & (
                Domain("fan_sms_status_checked_at", "=", False)
                | Domain("fan_sms_status_checked_at", "<=", now - STATUS_CHECK_INTERVAL)
            )
        )
        batch_size = self._get_send_batch_size()
        records = self.search(domain, limit=batch_size, order="id")
        if not records:
            return
        records._fan_check_provider_status(now - STATUS_CHECK_DELAY)
        remaining = self.search_count(domain) if len(records) == batch_size else 0
        self.env["ir.cron"]._commit_progress(len(records), remaining=remaining)

    def _fan_check_provider_status(self, requested_before):
        """Query the provider of each SMS and apply the results, then return the count per outcome.

        SMS requested after ``requested_before`` are skipped (counted as
        ``recent``), because their request may still be in flight.
        """
        counts = dict.fromkeys(("sent", "undelivered", "not_sent", "unknown", "recent"), 0)
        # SMS claimed before the request time was recorded cannot be looked up.
        without_time = self.filtered(lambda sms: not sms.fan_sms_requested_at)
        recent = (self - without_time).filtered(
            lambda sms: sms.fan_sms_requested_at > requested_before
        )
        to_check = self - without_time - recent
        counts["unknown"] += len(without_time)
        counts["recent"] += len(recent)
        for (company, provider), sms_group in to_check.grouped(
            lambda sms: (sms._get_sms_company(), sms.fan_sms_provider)
        ).items():
            if company.fan_sms_provider != provider or provider not in FAN_SMS_API_CLASSES:
                _logger.warning(
                    "Status of SMS %s not checked: they were sent through %s, and company %s "
                    "now uses %s",
                    sms_group.ids,
                    provider,
                    company.id,
                    company.fan_sms_provider,
                )
                counts["unknown"] += len(sms_group)
                continue
            sms_api = company._get_sms_api_class()(self.env)
            sms_api._set_company(company)
            results = sms_api._query_send_status(
                sms_group._fan_status_queries(), known_refs=sms_group._fan_known_refs()
            )
            by_uuid = {result["uuid"]: result for result in results}
            for sms in sms_group:
                outcome = sms._fan_apply_status(by_uuid[sms.uuid])
                counts[outcome] += 1
        to_check.write({"fan_sms_status_checked_at": fields.Datetime.now()})
        return counts

    def _fan_status_queries(self):
        return [
            {
                "uuid": sms.uuid,
                "number": sms.number,
                "ref": sms.fan_sms_provider_ref or False,
                "requested_at": sms.fan_sms_requested_at,
            }
            for sms in self
        ]

    def _fan_known_refs(self):
        """Return the provider message ids of the other SMS sent to these numbers."""
        trackers = (
            self.env["sms.tracker"]
            .sudo()
            .search(
                [
                    ("fan_sms_number", "in", self.mapped("number")),
                    ("fan_sms_provider_ref", "!=", False),
                    ("sms_uuid", "not in", self.mapped("uuid")),
                ]
            )
        )
        return set(trackers.mapped("fan_sms_provider_ref"))

    def _fan_apply_status(self, result):
        """Apply one result of ``_query_send_status`` and return the outcome counted."""
        self.ensure_one()
        status = result["status"]
        if result.get("ref"):
            self.fan_sms_provider_ref = result["ref"]
        if status in (QUERY_DELIVERED, QUERY_SENT):
            self.write({"fan_sms_attempt_state": "accepted", "failure_type": False})
            self._update_sms_state_and_trackers("sent" if status == QUERY_DELIVERED else "pending")
            self._fan_write_tracker(result.get("ref"))
            outcome = "sent"
        elif status == QUERY_UNDELIVERED:
            self.write(
                {
                    "state": "error",
                    "failure_type": "sms_not_delivered",
                    "fan_sms_attempt_state": "undelivered",
                }
            )
            self._fan_write_tracker(result.get("ref"))
            self.sms_tracker_id.with_context(
                sms_known_failure_reason=result.get("reason")
            )._action_update_from_provider_error("not_delivered")
            outcome = "undelivered"
        elif status == QUERY_NOT_SENT:
            self.fan_sms_attempt_state = "not_sent"
            self._update_sms_state_and_trackers("error", failure_type="fan_sms_not_sent")
            outcome = "not_sent"
        else:
            outcome = "unknown"
        log = _logger.warning if outcome == "unknown" else _logger.info
        log(
            "Status of SMS %s to %s from %s: %s %s",
            self.id,
            mask_phone(self.number),
            self.fan_sms_provider,
            status,
            result.get("reason") or "",
        )
        return outcome

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    def _fan_uncertain(self):
        return self.filtered(
            lambda sms: sms.fan_sms_attempt_state in OUTCOME_UNKNOWN_ATTEMPTS and not sms.to_delete
        )

    def _fan_check_uncertain(self):
        """Return the SMS whose outcome is unknown, and raise when there are none."""
        uncertain = self._fan_uncertain()
        if not uncertain:
            raise UserError(
                self.env._(
                    "None of the selected SMS has an unknown outcome: only SMS in Request Sent "
                    "or Outcome Unknown can be marked as sent or not sent."
                )
            )
        return uncertain

    def _fan_requeue(self):
        """Put the SMS back In Queue, their trackers included, and trigger the queue cron."""
        self._update_sms_state_and_trackers("outgoing", failure_type=False)
        # The stock tracker rules keep a Processing status on an update to In
        # Queue, so the traces and notifications of a claimed SMS are set here.
        trackers = self.sms_tracker_id
        trackers.mailing_trace_id.filtered(lambda t: t.trace_status == "process").write(
            {"trace_status": "outgoing"}
        )
        trackers.mail_notification_id.filtered(lambda n: n.notification_status == "process").write(
            {"notification_status": "ready"}
        )
        self._fan_hand_to_queue()

    def _fan_notify(self, title, message, notification_type):
        """Return a notification action that reloads the view, which shows the new states."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": notification_type,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

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
