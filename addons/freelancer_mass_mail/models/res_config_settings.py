from odoo import fields, models


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
        help="Local time, HH:MM, from which SMS mailings to fans may be sent.",
    )
    fan_sms_window_end = fields.Char(
        string="SMS Window End",
        config_parameter="freelancer_mass_mail.sms_window_end",
        help="Local time, HH:MM, after which SMS mailings to fans wait for the next day.",
    )
    fan_sms_window_tz = fields.Char(
        string="SMS Window Time Zone",
        config_parameter="freelancer_mass_mail.sms_window_tz",
        help="Time zone of the SMS sending window, for example Asia/Shanghai.",
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
