"""Typed access to the email settings of the addon (``ir.config_parameter``)."""

import logging

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "freelancer_mass_mail."

# Defaults of the email settings, also used when a parameter is missing or invalid.
EMAIL_PARAM_DEFAULTS = {
    "optin_link_valid_days": 7,
    "optin_reminder_after_days": 2,
    "optin_rate_limit_per_hour": 5,
    "winback_inactive_days": 90,
    "sunset_after_days": 30,
    "winback_template_mailing_id": 0,
    "send_time_tz": "Asia/Shanghai",
}


def get_email_param(env, key):
    """Return the parameter ``freelancer_mass_mail.<key>``, typed like its default."""
    default = EMAIL_PARAM_DEFAULTS[key]
    value = env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
    if value in (None, False, ""):
        return default
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            _logger.warning("Invalid integer %r in parameter %s%s", value, PARAM_PREFIX, key)
            return default
    return value
