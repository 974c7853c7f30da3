import datetime
import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import format_list

from ..tools import (
    compose_fan_sms,
    count_links,
    find_images_without_alt,
    find_spam_words,
    has_unsubscribe_link,
    html_size_bytes,
    in_sending_window,
    is_image_only,
    is_known_timezone,
    next_window_start,
    parse_window_time,
    sms_part_count,
)
from ..tools.send_time import next_hour_start
from .fan_mail_params import get_email_param
from .sms_sms import OUTCOME_UNKNOWN_ATTEMPTS

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "freelancer_mass_mail."

# Defaults of the ir.config_parameter settings, also used when a parameter is
# missing or invalid.
DEFAULT_PARAMS = {
    "subject_max_chars": 50,
    # Gmail clips messages whose HTML exceeds about 102 KB.
    "body_max_kb": 102,
    "max_links": 20,
    "image_only_min_chars": 50,
    "spam_words": "免费,限时,秒杀,中奖,恭喜发财,转发,点击领取,发票,贷款,赚钱,"
    "free,winner,act now,cash bonus,click here,guaranteed,risk-free,urgent,$$$,100%",
    "sms_signature": "",
    "sms_refusal_text": "拒收请回复R",
    "sms_window_start": "08:00",
    "sms_window_end": "20:00",
    "sms_window_tz": "Asia/Shanghai",
    "sms_daily_cap": 3,
    "soft_bounce_limit": 3,
    "soft_bounce_window_days": 30,
    "checklist_enforce_all": False,
}


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    fan_segment_id = fields.Many2one(
        comodel_name="fan.segment",
        index="btree_not_null",
        help="Send to the fans of this segment who consent to the mailing's channel. "
        "Members are resolved again when the mailing is sent.",
    )
    fan_sms_signature = fields.Char(
        string="SMS Signature",
        default=lambda self: self._fan_param("sms_signature"),
        help="Sender name put in 【】 at the start of each SMS, 2 to 16 characters, "
        "as registered with the SMS provider.",
    )
    fan_sms_refusal_text = fields.Char(
        string="SMS Refusal Wording",
        default=lambda self: self._fan_param("sms_refusal_text"),
        help="Wording added at the end of each SMS to tell fans how to refuse further "
        "messages, as MIIT Order No. 31 requires.",
    )
    fan_sms_preview = fields.Text(
        string="SMS As Sent",
        compute="_compute_fan_sms_preview",
        help="Text each fan receives: signature, body and refusal wording.",
    )
    fan_sms_length = fields.Integer(string="SMS Characters", compute="_compute_fan_sms_preview")
    fan_sms_part_count = fields.Integer(
        string="SMS Parts",
        compute="_compute_fan_sms_preview",
        help="Parts billed per fan: 70 characters fit one part, longer texts take 67 per part.",
    )
    fan_checklist_html = fields.Html(
        string="Pre-send Checklist", compute="_compute_fan_checklist", sanitize=False
    )
    fan_checklist_error_count = fields.Integer(
        string="Blocking Errors", compute="_compute_fan_checklist"
    )
    fan_checklist_warning_count = fields.Integer(
        string="Warnings", compute="_compute_fan_checklist"
    )
    fan_targeted_count = fields.Integer(
        string="Targeted Fans", compute="_compute_fan_targeted_count"
    )

    # ------------------------------------------------------------
    # CONSTRAINTS AND COMPUTES
    # ------------------------------------------------------------

    @api.constrains("fan_segment_id", "mailing_model_id")
    def _check_fan_segment_model(self):
        for mailing in self.filtered("fan_segment_id"):
            if mailing.mailing_model_real != "res.partner":
                raise ValidationError(
                    self.env._(
                        "Mailing %(mailing)s uses a fan segment, so its recipients must be "
                        "Contacts, not %(model)s.",
                        mailing=mailing.subject,
                        model=mailing.mailing_model_id.name,
                    )
                )

    @api.depends("fan_segment_id", "mailing_type")
    def _compute_mailing_domain(self):
        """Show the segment's domain, for reading only: recipients are resolved at send time."""
        with_segment = self.filtered("fan_segment_id")
        result = super(MailingMailing, self - with_segment)._compute_mailing_domain()
        for mailing in with_segment:
            mailing.mailing_domain = repr(
                self._fan_domain_to_literal(mailing._get_recipients_domain())
            )
        return result

    @api.depends("body_plaintext", "fan_sms_signature", "fan_sms_refusal_text", "mailing_type")
    def _compute_fan_sms_preview(self):
        for mailing in self:
            if mailing.mailing_type != "sms":
                mailing.fan_sms_preview = False
                mailing.fan_sms_length = mailing.fan_sms_part_count = 0
                continue
            text = mailing._fan_compose_sms_body()
            mailing.fan_sms_preview = text
            mailing.fan_sms_length = len(text)
            mailing.fan_sms_part_count = sms_part_count(text)

    @api.depends(
        "subject",
        "body_html",
        "body_arch",
        "body_plaintext",
        "mailing_type",
        "fan_segment_id",
        "fan_sms_signature",
        "fan_sms_refusal_text",
    )
    def _compute_fan_checklist(self):
        for mailing in self:
            checks = mailing._fan_get_checklist()
            errors = [check for check in checks if check["level"] == "error"]
            mailing.fan_checklist_error_count = len(errors)
            mailing.fan_checklist_warning_count = len(checks) - len(errors)
            mailing.fan_checklist_html = self._fan_render_checklist(checks)

    def _compute_fan_targeted_count(self):
        counts = dict(
            self.env["mailing.trace"]._read_group(
                [("mass_mailing_id", "in", self.ids), ("model", "=", "res.partner")],
                ["mass_mailing_id"],
                ["__count"],
            )
        )
        for mailing in self:
            mailing.fan_targeted_count = counts.get(mailing, 0)

    # ------------------------------------------------------------
    # ONCHANGES AND CRUD
    # ------------------------------------------------------------

    @api.onchange("fan_segment_id")
    def _onchange_fan_segment_id(self):
        if self.fan_segment_id:
            self.mailing_model_id = self.env["ir.model"]._get("res.partner")

    @api.model_create_multi
    def create(self, vals_list):
        partner_model_id = self.env["ir.model"]._get_id("res.partner")
        for vals in vals_list:
            if vals.get("fan_segment_id"):
                vals["mailing_model_id"] = partner_model_id
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("fan_segment_id"):
            vals = dict(vals, mailing_model_id=self.env["ir.model"]._get_id("res.partner"))
        return super().write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_put_in_queue(self):
        self._fan_check_sendable()
        result = super().action_put_in_queue()
        for mailing in self.filtered(lambda m: m._fan_uses_best_hour()):
            mailing._fan_plan_send_slots(mailing._get_recipients(), restart=True)
            mailing._fan_schedule_next_slot(include_due=True)
        return result

    def action_send_mail(self, res_ids=None):
        self._fan_check_sendable()
        return super().action_send_mail(res_ids=res_ids)

    def action_view_fan_recipients(self):
        """Open the contacts this mailing was sent to, read from its traces."""
        self.ensure_one()
        traces = self.env["mailing.trace"].search(
            [("mass_mailing_id", "=", self.id), ("model", "=", "res.partner")]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Targeted Fans"),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", traces.mapped("res_id"))],
            "context": {"create": False},
        }

    # ------------------------------------------------------------
    # RECIPIENTS
    # ------------------------------------------------------------

    def _get_recipients_domain(self):
        """Resolve a fan segment at send time, with consent on the mailing's channel.

        The segment is evaluated when this runs, so a fan who withdrew consent
        after the mailing was created is left out. ``mailing_domain`` only
        displays the segment's domain and is ignored here.
        """
        if self.fan_segment_id:
            domain = self.fan_segment_id._get_partner_domain(channel=self._fan_consent_channel())
        else:
            domain = super()._get_recipients_domain()
        # Sunset fans are left out of marketing emails to contacts.
        if self.mailing_type == "mail" and self.mailing_model_real == "res.partner":
            domain = Domain(domain) & Domain("email_sunset_date", "=", False)
        return domain

    def _fan_consent_channel(self):
        self.ensure_one()
        return "sms" if self.mailing_type == "sms" else "email"

    @api.model
    def _fan_domain_to_literal(self, domain):
        """Return ``domain`` as a list that ``literal_eval`` reads back (dates as strings)."""
        literal = []
        for item in list(Domain(domain)):
            if isinstance(item, (list, tuple)) and len(item) == 3:
                value = item[2]
                if isinstance(value, datetime.datetime):
                    value = fields.Datetime.to_string(value)
                elif isinstance(value, datetime.date):
                    value = fields.Date.to_string(value)
                item = (item[0], item[1], value)
            literal.append(item)
        return literal

    # ------------------------------------------------------------
    # PRE-SEND CHECKLIST
    # ------------------------------------------------------------

    @api.model
    def _fan_param(self, key):
        """Return the ir.config_parameter ``freelancer_mass_mail.<key>``, typed like its default."""
        default = DEFAULT_PARAMS[key]
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        if value in (None, False):
            return default
        if isinstance(default, bool):
            return str(value).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            try:
                return int(value)
            except ValueError:
                _logger.warning("Invalid integer %r in parameter %s%s", value, PARAM_PREFIX, key)
                return default
        return value

    def _fan_checklist_enforced(self):
        self.ensure_one()
        return bool(self.fan_segment_id) or self._fan_param("checklist_enforce_all")

    def _fan_get_checklist(self):
        """Return the pre-send checks that fail, as dicts with level, code, message and reason.

        ``level`` is ``"error"`` (blocks sending of fan mailings) or ``"warning"``.
        """
        self.ensure_one()
        checks = []

        def add(level, code, message, reason):
            checks.append({"level": level, "code": code, "message": message, "reason": reason})

        if not (self.subject or "").strip():
            add(
                "error",
                "empty_subject",
                self.env._("The subject is empty."),
                self.env._(
                    "Recipients decide from the subject whether to open a message, "
                    "and spam filters score empty subjects badly."
                ),
            )
        if self.fan_segment_id and not self._fan_count_consenting_recipients():
            add(
                "error",
                "no_consent",
                self.env._(
                    "No fan of segment %(segment)s consents to receive this channel.",
                    segment=self.fan_segment_id.display_name,
                ),
                self.env._(
                    "Marketing may only reach people who consented to this channel "
                    "(PIPL Art. 13, MIIT Order No. 31)."
                ),
            )
        if self.mailing_type == "sms":
            self._fan_check_sms(add)
        else:
            self._fan_check_email(add)
        return checks

    def _fan_count_consenting_recipients(self):
        self.ensure_one()
        if not self.fan_segment_id:
            return 0
        return self.env["res.partner"].search_count(self._get_recipients_domain())

    def _fan_check_email(self, add):
        body = self.body_html or self.body_arch or ""
        if not has_unsubscribe_link(body, self.get_base_url()):
            add(
                "error",
                "no_unsubscribe",
                self.env._("The body has no unsubscribe link."),
                self.env._(
                    "Every marketing email must offer an easy way to refuse further mail "
                    "(PIPL Art. 24). Insert the unsubscribe link block of the editor."
                ),
            )
        subject_max = self._fan_param("subject_max_chars")
        if len(self.subject or "") > subject_max:
            add(
                "warning",
                "long_subject",
                self.env._(
                    "The subject has %(count)s characters, more than %(max)s.",
                    count=len(self.subject),
                    max=subject_max,
                ),
                self.env._(
                    "Mail apps, on phones especially, cut long subjects, "
                    "so the end of the subject is never read."
                ),
            )
        size_kb = html_size_bytes(body) / 1024.0
        body_max_kb = self._fan_param("body_max_kb")
        if size_kb > body_max_kb:
            add(
                "warning",
                "large_body",
                self.env._(
                    "The body is %(size)s KB, more than %(max)s KB.",
                    size=round(size_kb, 1),
                    max=body_max_kb,
                ),
                self.env._(
                    "Gmail clips messages over about 102 KB and hides the rest, "
                    "including the unsubscribe link, behind a link."
                ),
            )
        link_count = count_links(body)
        max_links = self._fan_param("max_links")
        if link_count > max_links:
            add(
                "warning",
                "many_links",
                self.env._(
                    "The body has %(count)s links, more than %(max)s.",
                    count=link_count,
                    max=max_links,
                ),
                self.env._(
                    "Spam filters distrust messages with many links, "
                    "and readers click less when every line is a link."
                ),
            )
        if is_image_only(body, self._fan_param("image_only_min_chars")):
            add(
                "warning",
                "image_only",
                self.env._("The body is mostly images with little text."),
                self.env._(
                    "Spam filters cannot read images, and many mail apps block images "
                    "by default, so the reader may see an empty message."
                ),
            )
        missing_alt = find_images_without_alt(body)
        if missing_alt:
            add(
                "warning",
                "image_no_alt",
                self.env._("%(count)s images have no alternative text.", count=len(missing_alt)),
                self.env._(
                    "Mail apps that block images show the alt text instead, "
                    "and screen readers read it aloud."
                ),
            )
        self._fan_check_spam_words(add, f"{self.subject or ''} {body}")

    def _fan_check_sms(self, add):
        signature = (self.fan_sms_signature or "").strip().strip("【】")
        if not 2 <= len(signature) <= 16:
            add(
                "error",
                "sms_signature",
                self.env._("The SMS signature must have 2 to 16 characters."),
                self.env._(
                    "Chinese carriers reject commercial SMS that do not start with a "
                    "registered 【signature】. Set it on the mailing or in the settings."
                ),
            )
        if "【" in (self.body_plaintext or "") or "】" in (self.body_plaintext or ""):
            add(
                "error",
                "sms_brackets",
                self.env._("The SMS body contains 【 or 】."),
                self.env._(
                    "Providers reserve 【】 for the signature and reject bodies that contain them."
                ),
            )
        if not (self.fan_sms_refusal_text or "").strip():
            add(
                "error",
                "sms_refusal",
                self.env._("The SMS refusal wording is empty."),
                self.env._(
                    "Every commercial SMS must say how to refuse further messages "
                    "(MIIT Order No. 31), for example 拒收请回复R."
                ),
            )
        for error in self._fan_sms_settings_errors():
            add(
                "error",
                "sms_settings",
                error,
                self.env._(
                    "SMS cannot be held to the sending window or capped per number with "
                    "this value. Correct it in Settings > Email Marketing."
                ),
            )
        company = self.env.company
        missing = company._fan_sms_missing_config()
        if missing:
            add(
                "error",
                "sms_gateway_config",
                self.env._(
                    "The %(gateway)s of company %(company)s is missing: %(settings)s.",
                    gateway=company._fan_sms_provider_label(),
                    company=company.display_name,
                    settings=format_list(self.env, missing),
                ),
                self.env._(
                    "Every SMS would go to the provider without these values and be rejected. "
                    "Fill them in under Settings > Email Marketing > SMS Gateway."
                ),
            )
        parts = self.fan_sms_part_count
        if parts > 1:
            add(
                "warning",
                "sms_parts",
                self.env._(
                    "The SMS has %(length)s characters and is billed as %(parts)s parts.",
                    length=self.fan_sms_length,
                    parts=parts,
                ),
                self.env._(
                    "Each part costs one SMS per fan: 70 characters fit in one part, "
                    "longer texts take 67 characters per part."
                ),
            )
        self._fan_check_spam_words(add, self.body_plaintext or "")

    def _fan_check_spam_words(self, add, text):
        words = [word.strip() for word in self._fan_param("spam_words").split(",")]
        found = find_spam_words(text, words)
        if found:
            add(
                "warning",
                "spam_words",
                self.env._("Words that spam filters flag: %(words)s.", words=", ".join(found)),
                self.env._(
                    "Mail providers and SMS carriers score these words as spam "
                    "and may file or block the message."
                ),
            )

    @api.model
    def _fan_render_checklist(self, checks):
        if not checks:
            return Markup('<p class="text-success mb-0">%s</p>') % self.env._(
                "All pre-send checks passed."
            )
        rows = Markup()
        for check in checks:
            css = "text-danger" if check["level"] == "error" else "text-warning"
            label = self.env._("Error") if check["level"] == "error" else self.env._("Warning")
            rows += Markup(
                '<li class="mb-1"><strong class="%s">%s:</strong> %s<br/>'
                '<small class="text-muted">%s</small></li>'
            ) % (css, label, check["message"], check["reason"])
        return Markup('<ul class="list-unstyled mb-0">%s</ul>') % rows

    def _fan_check_sendable(self):
        """Raise a UserError listing the blocking checklist errors of enforced mailings."""
        for mailing in self:
            if not mailing._fan_checklist_enforced():
                continue
            errors = [c for c in mailing._fan_get_checklist() if c["level"] == "error"]
            if errors:
                raise UserError(
                    self.env._(
                        "Mailing %(mailing)s cannot be sent until these errors are fixed:\n"
                        "%(errors)s",
                        mailing=mailing.subject or mailing.display_name,
                        errors="\n".join(f"- {error['message']}" for error in errors),
                    )
                )

    # ------------------------------------------------------------
    # SMS
    # ------------------------------------------------------------

    def _fan_compose_sms_body(self):
        self.ensure_one()
        return compose_fan_sms(
            self.body_plaintext, self.fan_sms_signature, self.fan_sms_refusal_text
        )

    def _send_sms_get_composer_values(self, res_ids):
        values = super()._send_sms_get_composer_values(res_ids)
        if self.fan_segment_id:
            values["body"] = self._fan_compose_sms_body()
        return values

    @api.model
    def _fan_sms_window_errors(self, start, end, tz_name):
        """Return the translated errors of an SMS sending window, empty when it is valid."""
        errors = []
        start_time, end_time = parse_window_time(start), parse_window_time(end)
        for value, parsed, label in (
            (start, start_time, self.env._("SMS window start")),
            (end, end_time, self.env._("SMS window end")),
        ):
            if parsed is None:
                errors.append(
                    self.env._(
                        "%(setting)s “%(value)s” is not a valid time: "
                        "enter HH:MM, from 00:00 to 23:59.",
                        setting=label,
                        value=value,
                    )
                )
        if start_time is not None and end_time is not None and start_time >= end_time:
            errors.append(
                self.env._(
                    "SMS window start %(start)s must be earlier than its end %(end)s.",
                    start=start,
                    end=end,
                )
            )
        if not is_known_timezone(tz_name):
            errors.append(
                self.env._(
                    "SMS window time zone “%(value)s” is unknown: "
                    "enter a time zone name such as Asia/Shanghai.",
                    value=tz_name,
                )
            )
        return errors

    @api.model
    def _fan_sms_daily_cap_error(self, cap):
        """Return the translated error of a daily SMS cap, or None when it is valid."""
        if isinstance(cap, int) and cap >= 0:
            return None
        return self.env._(
            "Marketing SMS per number per day “%(value)s” is invalid: "
            "enter 0 for no cap or a positive whole number.",
            value=cap,
        )

    @api.model
    def _fan_sms_settings_errors(self):
        """Return the translated errors of the stored SMS window and daily cap settings."""
        errors = self._fan_sms_window_errors(
            self._fan_param("sms_window_start"),
            self._fan_param("sms_window_end"),
            self._fan_param("sms_window_tz"),
        )
        raw_cap = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + "sms_daily_cap")
        try:
            cap = DEFAULT_PARAMS["sms_daily_cap"] if raw_cap in (None, False) else int(raw_cap)
        except ValueError:
            cap = raw_cap
        cap_error = self._fan_sms_daily_cap_error(cap)
        if cap_error:
            errors.append(cap_error)
        return errors

    @api.model
    def _fan_raise_sms_settings_errors(self):
        """Raise a UserError listing the invalid SMS sending settings, if any."""
        errors = self._fan_sms_settings_errors()
        if errors:
            raise UserError(
                self.env._(
                    "Mailing SMS cannot be sent because of invalid SMS settings:\n%(errors)s\n"
                    "Correct them in Settings > Email Marketing.",
                    errors="\n".join(f"- {error}" for error in errors),
                )
            )

    @api.model
    def _fan_sms_window(self):
        """Return the SMS window as ``(start, end, tz_name)``, or raise a UserError if invalid."""
        self._fan_raise_sms_settings_errors()
        return (
            self._fan_param("sms_window_start").strip(),
            self._fan_param("sms_window_end").strip(),
            self._fan_param("sms_window_tz"),
        )

    def action_send_sms(self, res_ids=None):
        """Hold fan SMS mailings outside the sending window until the window opens.

        A held mailing goes back to the queue, scheduled at the next window
        start, and the mailing queue cron is triggered for that time.
        """
        start, end, tz_name = self._fan_sms_window()
        now = fields.Datetime.now()
        held = self.browse()
        if not in_sending_window(now, start, end, tz_name):
            held = self.filtered("fan_segment_id")
        if held:
            resume_at = next_window_start(now, start, end, tz_name)
            held.write(
                {
                    "state": "in_queue",
                    "schedule_type": "scheduled",
                    "schedule_date": resume_at,
                }
            )
            self.env.ref("mass_mailing.ir_cron_mass_mailing_queue")._trigger(resume_at)
            for mailing in held:
                mailing._message_log(
                    body=self.env._(
                        "SMS held: outside the sending window %(start)s-%(end)s (%(tz)s). "
                        "Sending resumes at %(resume)s UTC.",
                        start=start,
                        end=end,
                        tz=tz_name,
                        resume=resume_at,
                    )
                )
            _logger.info("Fan SMS mailings %s held until %s UTC", held.ids, resume_at)
        # sms.sms already queued when the window closes stay queued as well
        # (see sms.sms._fan_filter_sendable).
        return super(MailingMailing, self - held).action_send_sms(res_ids=res_ids)

    # Retry and status checks of SMS that may have been sent already.
    fan_sms_unknown_count = fields.Integer(
        string="SMS With Unknown Outcome",
        compute="_compute_fan_sms_unknown_count",
        help="SMS of this mailing whose provider request timed out or was interrupted: "
        "they may have been sent, so they are not sent again until their status is known.",
    )

    def _compute_fan_sms_unknown_count(self):
        sms_mailings = self.filtered(lambda m: m.mailing_type == "sms" and m.id)
        counts = dict(
            self.env["sms.sms"]
            .sudo()
            ._read_group(
                self._fan_unknown_sms_domain(sms_mailings.ids), ["mailing_id"], ["__count"]
            )
        )
        for mailing in self:
            mailing.fan_sms_unknown_count = counts.get(mailing._origin, 0)

    def action_fan_check_sms_status(self):
        """Ask the provider about the SMS of this mailing whose outcome is unknown."""
        sms = self.env["sms.sms"].sudo().search(self._fan_unknown_sms_domain(self.ids))
        return sms.action_fan_check_status()

    def action_fan_view_unknown_sms(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("SMS With Unknown Outcome"),
            "res_model": "sms.sms",
            "view_mode": "list,form",
            "domain": list(self._fan_unknown_sms_domain(self.ids)),
        }

    def action_retry_failed_sms(self):
        """Retry failed SMS, except those the provider may have received already.

        The stock retry deletes the failed SMS and their traces, then queues
        the mailing again, which creates new SMS for those recipients. An SMS
        whose outcome is unknown would then be sent twice, so it keeps its
        trace and is left out: its status is checked with the provider, or a
        user marks it as sent or not sent.
        """
        failed_sms = (
            self.env["sms.sms"]
            .sudo()
            .search(
                Domain("mailing_id", "in", self.ids)
                & Domain("state", "=", "error")
                & (
                    Domain("fan_sms_attempt_state", "=", False)
                    | Domain("fan_sms_attempt_state", "not in", OUTCOME_UNKNOWN_ATTEMPTS)
                )
            )
        )
        failed_sms.mapped("mailing_trace_ids").unlink()
        failed_sms.unlink()
        self.action_put_in_queue()

    def _fan_unknown_sms_domain(self, mailing_ids):
        return (
            Domain("mailing_id", "in", mailing_ids)
            & Domain("fan_sms_attempt_state", "in", OUTCOME_UNKNOWN_ATTEMPTS)
            & Domain("to_delete", "!=", True)
        )

    fan_is_winback = fields.Boolean(
        string="Win-back Mailing",
        readonly=True,
        copy=False,
        help="Created by the win-back cron for fans inactive for a long time.",
    )
    fan_link_interest_ids = fields.One2many(
        comodel_name="mailing.link.interest",
        inverse_name="mailing_id",
        string="Link Interest Tags",
        copy=True,
        help="Tag the fans who click matching links, for click-based segments.",
    )
    fan_send_at_best_hour = fields.Boolean(
        string="Send at Each Fan's Best Hour",
        copy=True,
        help="Spread the sending over the next 24 hours: each fan is mailed at the hour "
        "in which they opened or clicked the most emails (Asia/Shanghai time), fans "
        "without history at the audience's best hour.",
    )
    fan_send_start = fields.Datetime(
        string="Best-hour Window Start",
        readonly=True,
        copy=False,
        help="Start of the 24-hour window in which the recipients' hours are planned.",
    )
    fan_send_slot_ids = fields.One2many(
        comodel_name="mailing.fan.send.slot", inverse_name="mailing_id", string="Send Times"
    )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_fan_send_hours(self):
        """Open the open/click hour histogram of this mailing's recipients."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_mass_mail.fan_send_hour_report_action"
        )
        action["domain"] = [("partner_id", "in", self._get_recipients())]
        return action

    # ------------------------------------------------------------
    # RECIPIENTS AND SENDING
    # ------------------------------------------------------------

    def _get_remaining_recipients(self):
        """Keep only the recipients whose send time has come, for best-hour mailings."""
        res_ids = super()._get_remaining_recipients()
        if not (res_ids and self._fan_uses_best_hour()):
            return res_ids
        self._fan_plan_send_slots(res_ids)
        self.env.cr.execute(
            """
            SELECT partner_id FROM mailing_fan_send_slot
             WHERE mailing_id = %s AND scheduled_at <= %s AND partner_id = ANY(%s)
            """,
            [self.id, fields.Datetime.now(), res_ids],
        )
        due = {row[0] for row in self.env.cr.fetchall()}
        return [res_id for res_id in res_ids if res_id in due]

    def _action_send_mail(self, res_ids=None):
        result = super()._action_send_mail(res_ids=res_ids)
        for mailing in self.filtered(lambda m: m._fan_uses_best_hour()):
            mailing._fan_schedule_next_slot()
        return result

    @api.model
    def _process_mass_mailing_queue(self):
        # A best-hour mailing with nobody due yet would be marked done by the
        # stock queue; move it to its next slot first.
        now = fields.Datetime.now()
        waiting = self.search(
            [
                ("fan_send_at_best_hour", "=", True),
                ("state", "in", ("in_queue", "sending")),
                ("schedule_date", "<", now),
            ]
        )
        for mailing in waiting.filtered(lambda m: m._fan_uses_best_hour()):
            if not mailing._get_remaining_recipients():
                mailing._fan_schedule_next_slot()
        return super()._process_mass_mailing_queue()

    # ------------------------------------------------------------
    # PLANNING
    # ------------------------------------------------------------

    def _fan_uses_best_hour(self):
        self.ensure_one()
        return (
            self.fan_send_at_best_hour
            and self.mailing_type == "mail"
            and self.mailing_model_real == "res.partner"
        )

    def _fan_plan_send_slots(self, partner_ids, restart=False):
        """Give each recipient without a send time the next start of their best hour.

        Fans without history get the audience's best hour (over these
        recipients), and when nobody has history the window start. Hours are
        planned within 24 hours of ``fan_send_start``.
        """
        self.ensure_one()
        if restart or not self.fan_send_start:
            self.fan_send_slot_ids.unlink()
            self.fan_send_start = fields.Datetime.now()
            self.env["res.partner"]._fan_compute_best_send_hours(partner_ids)
        self.env.cr.execute(
            """
            SELECT p.id, p.fan_best_send_hour
              FROM res_partner p
         LEFT JOIN mailing_fan_send_slot s ON s.partner_id = p.id AND s.mailing_id = %s
             WHERE p.id = ANY(%s) AND s.id IS NULL
            """,
            [self.id, list(partner_ids)],
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return
        tz_name = get_email_param(self.env, "send_time_tz")
        audience_hour = self.env["res.partner"]._fan_audience_best_hour(partner_ids)
        by_hour = {}
        for partner_id, hour in rows:
            from_audience = hour is None or hour < 0
            if from_audience:
                hour = audience_hour
            by_hour.setdefault((hour, from_audience), []).append(partner_id)
        for (hour, from_audience), ids in by_hour.items():
            scheduled_at = (
                self.fan_send_start
                if hour is None
                else next_hour_start(self.fan_send_start, hour, tz_name)
            )
            self.env.cr.execute(
                """
                INSERT INTO mailing_fan_send_slot
                       (mailing_id, partner_id, hour, scheduled_at, from_audience)
                SELECT %s, unnest(%s::int[]), %s, %s, %s
                """,
                [self.id, ids, hour, scheduled_at, from_audience],
            )
        self.env["mailing.fan.send.slot"].invalidate_model()
        self.invalidate_recordset(["fan_send_slot_ids"])
        _logger.info(
            "Mailing %s: send times planned for %s recipients in %s hours",
            self.id,
            len(rows),
            len(by_hour),
        )

    def _fan_schedule_next_slot(self, include_due=False):
        """Queue the mailing for its next slot with unsent recipients; return its time.

        With ``include_due``, a slot already due counts and the mailing is
        queued for now. Without it only future slots count, so recipients
        due but no longer eligible (consent withdrawn) do not hold the queue.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            SELECT MIN(s.scheduled_at)
              FROM mailing_fan_send_slot s
             WHERE s.mailing_id = %(mailing)s
               AND (%(include_due)s OR s.scheduled_at > %(now)s)
               AND NOT EXISTS (
                   SELECT 1 FROM mailing_trace t
                    WHERE t.mass_mailing_id = %(mailing)s
                      AND t.model = 'res.partner' AND t.res_id = s.partner_id)
            """,
            {"mailing": self.id, "now": now, "include_due": include_due},
        )
        next_at = self.env.cr.fetchone()[0]
        if not next_at:
            return False
        next_at = max(next_at, now)
        self.write({"state": "in_queue", "schedule_type": "scheduled", "schedule_date": next_at})
        self.env.ref("mass_mailing.ir_cron_mass_mailing_queue")._trigger(next_at)
        return next_at
