import logging

import psycopg2

from odoo import http, tools
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.freelancer_crm.tools import is_mobile_number, normalize_email, normalize_phone

from ..models.fan_mail_params import get_email_param
from .page_lang import set_page_lang

_logger = logging.getLogger(__name__)

PAGE_TEMPLATE = "freelancer_mass_mail.page_fan_optin"
NAME_MAX_CHARS = 128
# Maximum length of an address in an SMTP forward-path (RFC 5321, section 4.5.3.1.3).
EMAIL_MAX_CHARS = 254
# Maximum length of a typed mobile number: E.164 has at most 15 digits, plus a
# prefix such as "0086" and separators.
MOBILE_MAX_CHARS = 32


class FanOptinController(http.Controller):
    """Public double opt-in pages: subscription form, confirmation link."""

    @http.route(
        "/fans/subscribe", type="http", auth="public", methods=["GET"], website=True, sitemap=False
    )
    def fan_subscribe_form(self, **kwargs):
        self._set_page_lang(kwargs.get("lang"))
        return self._render("form", values={}, errors={})

    @http.route(
        "/fans/subscribe", type="http", auth="public", methods=["POST"], website=True, sitemap=False
    )
    def fan_subscribe_submit(self, name="", email="", mobile="", **kwargs):
        """Record the request (CSRF-checked by the route) and send the confirmation email."""
        lang = self._set_page_lang(kwargs.get("lang"))
        values = {"name": name.strip(), "email": email.strip(), "mobile": mobile.strip()}
        errors = self._validate_form(values)
        if errors:
            return self._render("form", values=values, errors=errors, status=400)
        values["mobile"] = normalize_phone(values["mobile"]) or False

        httprequest = request.httprequest
        ip_address = httprequest.remote_addr
        Optin = request.env["fan.optin.request"].sudo()
        limit = get_email_param(request.env, "optin_rate_limit_per_hour")
        if Optin._count_recent_from_ip(ip_address) >= limit:
            _logger.warning(
                "Opt-in form rate limit of %s per hour reached for IP %s", limit, ip_address
            )
            return self._render("rate_limited", status=429)
        try:
            with request.env.cr.savepoint():
                Optin._create_from_form(
                    values["name"],
                    values["email"],
                    values["mobile"],
                    ip_address=ip_address,
                    user_agent=(httprequest.headers.get("User-Agent") or "")[:512],
                    form_url=httprequest.url,
                    lang=lang,
                )
        except (UserError, ValueError, psycopg2.Error):
            _logger.exception("Opt-in form: the confirmation email could not be queued")
            return self._render("send_failed", values=values, errors={}, status=500)
        return self._render("check_inbox")

    @http.route(
        "/fans/subscribe/confirm",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def fan_subscribe_confirm_page(self, request_id=None, expiry=None, token=None, **kwargs):
        """Show the confirmation button; a GET never grants, because link scanners follow links."""
        optin, error = request.env["fan.optin.request"]._check_token(request_id, expiry, token)
        self._set_page_lang(kwargs.get("lang") or optin.lang)
        if error:
            return self._render(error, status=403 if error == "invalid" else 410)
        if optin.state == "confirmed":
            return self._render("already_confirmed")
        return self._render(
            "confirm", link={"request_id": optin.id, "expiry": expiry, "token": token}
        )

    @http.route(
        "/fans/subscribe/confirm",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def fan_subscribe_confirm(self, request_id=None, expiry=None, token=None, **kwargs):
        optin, error = request.env["fan.optin.request"]._check_token(request_id, expiry, token)
        self._set_page_lang(kwargs.get("lang") or optin.lang)
        if error:
            return self._render(error, status=403 if error == "invalid" else 410)
        httprequest = request.httprequest
        granted = optin._confirm(
            httprequest.remote_addr, (httprequest.headers.get("User-Agent") or "")[:512]
        )
        return self._render("confirmed" if granted else "already_confirmed")

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    def _validate_form(self, values):
        """Return the translated error of each invalid form field, by field name."""
        env = request.env
        errors = {}
        if not values["name"]:
            errors["name"] = env._("Please enter your name.")
        elif len(values["name"]) > NAME_MAX_CHARS:
            errors["name"] = env._(
                "The name is too long: at most %(max)s characters.", max=NAME_MAX_CHARS
            )
        if len(values["email"]) > EMAIL_MAX_CHARS:
            errors["email"] = env._(
                "The email address is too long: at most %(max)s characters.", max=EMAIL_MAX_CHARS
            )
        elif not normalize_email(values["email"]) or not tools.email_normalize(
            values["email"], strict=True
        ):
            errors["email"] = env._("Please enter a valid email address, such as name@example.com.")
        mobile = values["mobile"]
        if mobile and (
            len(mobile) > MOBILE_MAX_CHARS or not is_mobile_number(normalize_phone(mobile))
        ):
            errors["mobile"] = env._(
                "Please enter a valid mobile number, such as 138 0013 8000, or leave it empty."
            )
        return errors

    def _set_page_lang(self, requested_lang=None):
        return set_page_lang(requested_lang)

    def _render(self, page, status=200, **values):
        values.update(
            page=page,
            lang=request.env.lang,
            values=values.get("values", {}),
            errors=values.get("errors", {}),
        )
        return request.render(PAGE_TEMPLATE, values, status=status)
