from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_list

from .mailing_mailing import DEFAULT_PARAMS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    fan_mail_subject_max_chars = fields.Integer(
        string="Subject Length Warning",
        config_parameter="freelancer_mass_mail.subject_max_chars",
        default=50,
        help="Warn when an email subject has more characters than this.",
    )
    fan_mail_body_max_kb = fields.Integer(
        string="Body Size Warning (KB)",
        config_parameter="freelancer_mass_mail.body_max_kb",
        default=102,
        help="Warn when the email HTML is larger than this, in kilobytes. "
        "Gmail clips messages over about 102 KB.",
    )
    fan_mail_max_links = fields.Integer(
        string="Link Count Warning",
        config_parameter="freelancer_mass_mail.max_links",
        default=20,
        help="Warn when an email body has more links than this.",
    )
    fan_mail_image_only_min_chars = fields.Integer(
        string="Minimum Text With Images",
        config_parameter="freelancer_mass_mail.image_only_min_chars",
        default=50,
        help="Warn that a body is image-only when it has images and fewer visible "
        "characters than this.",
    )
    fan_mail_spam_words = fields.Char(
        string="Spam Trigger Words",
        config_parameter="freelancer_mass_mail.spam_words",
        help="Comma-separated words that the checklist flags in subjects and bodies.",
    )
    fan_mail_checklist_enforce_all = fields.Boolean(
        string="Block All Mailings on Checklist Errors",
        config_parameter="freelancer_mass_mail.checklist_enforce_all",
        help="Without this, only mailings to a fan segment are blocked.",
    )
    fan_sms_signature = fields.Char(
        string="SMS Signature",
        config_parameter="freelancer_mass_mail.sms_signature",
        help="Default signature of new SMS mailings, without 【】, as registered "
        "with the SMS provider.",
    )
    fan_sms_refusal_text = fields.Char(
        string="SMS Refusal Wording",
        config_parameter="freelancer_mass_mail.sms_refusal_text",
        help="Default wording added to SMS mailings to fans, for example 拒收请回复R.",
    )
    fan_sms_window_start = fields.Char(
        string="SMS Window Start",
        config_parameter="freelancer_mass_mail.sms_window_start",
        help="Local time, HH:MM from 00:00 to 23:59, from which SMS mailings to fans "
        "may be sent. Empty means 08:00.",
    )
    fan_sms_window_end = fields.Char(
        string="SMS Window End",
        config_parameter="freelancer_mass_mail.sms_window_end",
        help="Local time, HH:MM from 00:00 to 23:59 and later than the start, after which "
        "SMS mailings to fans wait for the next day. Empty means 20:00.",
    )
    fan_sms_window_tz = fields.Char(
        string="SMS Window Time Zone",
        config_parameter="freelancer_mass_mail.sms_window_tz",
        help="Time zone name of the SMS sending window, for example Asia/Shanghai. "
        "Empty means Asia/Shanghai.",
    )
    fan_soft_bounce_limit = fields.Integer(
        string="Soft Bounces Before Suppression",
        config_parameter="freelancer_mass_mail.soft_bounce_limit",
        default=3,
        help="Withdraw email consent after this many soft bounces within the window.",
    )
    fan_soft_bounce_window_days = fields.Integer(
        string="Soft Bounce Window (Days)",
        config_parameter="freelancer_mass_mail.soft_bounce_window_days",
        default=30,
        help="Number of days in which soft bounces are counted.",
    )

    fan_optin_link_valid_days = fields.Integer(
        string="Confirmation Link Validity (Days)",
        config_parameter="freelancer_mass_mail.optin_link_valid_days",
        default=7,
        help="Number of days a double opt-in confirmation link works. "
        "Unconfirmed requests expire after this.",
    )
    fan_optin_reminder_after_days = fields.Integer(
        string="Opt-in Reminder After (Days)",
        config_parameter="freelancer_mass_mail.optin_reminder_after_days",
        default=2,
        help="Send one reminder to unconfirmed subscribers this many days after the request.",
    )
    fan_optin_rate_limit_per_hour = fields.Integer(
        string="Subscriptions per IP per Hour",
        config_parameter="freelancer_mass_mail.optin_rate_limit_per_hour",
        default=5,
        help="Maximum number of subscription requests the public form accepts from one "
        "IP address in one hour.",
    )
    fan_winback_inactive_days = fields.Integer(
        string="Win-back After (Days Inactive)",
        config_parameter="freelancer_mass_mail.winback_inactive_days",
        default=90,
        help="Fans with email consent and no interaction for this many days get the "
        "win-back mailing.",
    )
    fan_sunset_after_days = fields.Integer(
        string="Sunset After Win-back (Days)",
        config_parameter="freelancer_mass_mail.sunset_after_days",
        default=30,
        help="Fans still inactive this many days after their win-back mailing no longer "
        "receive marketing emails until they interact again.",
    )
    fan_winback_template_mailing_id = fields.Many2one(
        comodel_name="mailing.mailing",
        string="Win-back Template Mailing",
        config_parameter="freelancer_mass_mail.winback_template_mailing_id",
        domain=[("mailing_type", "=", "mail")],
        help="Email mailing copied for each win-back run. Without it, no win-back is sent.",
    )

    fan_sms_provider = fields.Selection(related="company_id.fan_sms_provider", readonly=False)
    fan_sms_key_id = fields.Char(
        related="company_id.fan_sms_key_id", readonly=False, groups="base.group_system"
    )
    fan_sms_key_secret = fields.Char(
        related="company_id.fan_sms_key_secret", readonly=False, groups="base.group_system"
    )
    fan_sms_sign_name = fields.Char(related="company_id.fan_sms_sign_name", readonly=False)
    fan_sms_template_code = fields.Char(related="company_id.fan_sms_template_code", readonly=False)
    fan_sms_template_param = fields.Char(
        related="company_id.fan_sms_template_param", readonly=False
    )
    fan_sms_app_id = fields.Char(related="company_id.fan_sms_app_id", readonly=False)
    fan_sms_region = fields.Char(related="company_id.fan_sms_region", readonly=False)
    fan_sms_endpoint = fields.Char(related="company_id.fan_sms_endpoint", readonly=False)
    fan_sms_report_url = fields.Char(
        string="Delivery Report URL",
        compute="_compute_fan_sms_callback_urls",
        groups="base.group_system",
        help="URL to enter as the delivery report (status) callback in the provider console.",
    )
    fan_sms_reply_url = fields.Char(
        string="Reply URL",
        compute="_compute_fan_sms_callback_urls",
        groups="base.group_system",
        help="URL to enter as the incoming SMS (reply) callback in the provider console.",
    )
    fan_sms_daily_cap = fields.Integer(
        string="Marketing SMS per Number per Day",
        config_parameter="freelancer_mass_mail.sms_daily_cap",
        default=3,
        help="Maximum number of mailing SMS sent to one number per day, in the time "
        "zone of the sending window. SMS over the cap wait in the queue until the next "
        "day's sending window. 0 means no cap.",
    )

    @api.depends("company_id", "fan_sms_provider")
    def _compute_fan_sms_callback_urls(self):
        for settings in self:
            company = settings.company_id.sudo()
            if company.fan_sms_provider not in ("aliyun", "tencent"):
                settings.fan_sms_report_url = settings.fan_sms_reply_url = False
                continue
            base = (
                f"{company.get_base_url()}/freelancer_mass_mail/sms/"
                f"{company.fan_sms_provider}/%s/{company.fan_sms_callback_token}"
            )
            settings.fan_sms_report_url = base % "report"
            settings.fan_sms_reply_url = base % "reply"

    def set_values(self):
        """Reject SMS settings that would stop or break SMS sending, then save."""
        for settings in self:
            settings._fan_check_sms_settings()
        result = super().set_values()
        # Odoo deletes the parameter of an integer setting of 0, which would
        # bring back the default cap of 3 instead of no cap.
        if any(settings.fan_sms_daily_cap == 0 for settings in self):
            self.env["ir.config_parameter"].sudo().set_param(
                "freelancer_mass_mail.sms_daily_cap", "0"
            )
        return result

    def _fan_check_sms_settings(self):
        self.ensure_one()
        Mailing = self.env["mailing.mailing"]
        # An empty field removes the parameter, and the default applies.
        errors = Mailing._fan_sms_window_errors(
            self.fan_sms_window_start or DEFAULT_PARAMS["sms_window_start"],
            self.fan_sms_window_end or DEFAULT_PARAMS["sms_window_end"],
            self.fan_sms_window_tz or DEFAULT_PARAMS["sms_window_tz"],
        )
        cap_error = Mailing._fan_sms_daily_cap_error(self.fan_sms_daily_cap)
        if cap_error:
            errors.append(cap_error)
        missing = self.company_id._fan_sms_missing_config()
        if missing:
            errors.append(
                self.env._(
                    "The %(gateway)s needs these settings: %(settings)s. "
                    "Fill them in, or choose the Odoo Default gateway.",
                    gateway=self.company_id._fan_sms_provider_label(),
                    settings=format_list(self.env, missing),
                )
            )
        if errors:
            raise ValidationError("\n".join(errors))

    def action_fan_sms_regenerate_token(self):
        self.company_id.action_fan_sms_regenerate_token()
