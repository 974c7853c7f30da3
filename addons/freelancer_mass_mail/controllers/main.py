import hmac
import json
import logging
import urllib.parse

from werkzeug.exceptions import BadRequest, NotFound, Unauthorized

from odoo import http, tools
from odoo.http import request

from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.addons.mass_mailing_sms.controllers.main import MailingSMSController

from ..tools import sms_provider_aliyun, sms_provider_tencent
from .page_lang import set_page_lang

_logger = logging.getLogger(__name__)

PREFERENCE_CHANNELS = ("email", "sms", "wechat")
INVALID_LINK_TEMPLATE = "freelancer_mass_mail.page_fan_link_invalid"
# HTTP status of the invalid-link page per reason. A link whose token does not
# match gets 403 Forbidden. Odoo's 401 means that credentials are missing, and
# a visitor with a signed link has none to give.
INVALID_LINK_STATUS = {"incomplete": 400, "invalid": 403, "not_found": 404}
# Largest id PostgreSQL stores in an integer column. A larger id in a link
# would make the lookup fail with a database error.
MAX_RECORD_ID = 2**31 - 1


def _is_id_text(value):
    """Return True when ``value`` is an int or the ASCII digits of one."""
    if isinstance(value, int):
        return True
    text = value.strip() if isinstance(value, str) else ""
    return text.isascii() and text.isdigit()


class FanMassMailController(MassMailController):
    # ------------------------------------------------------------
    # UNSUBSCRIBE
    # ------------------------------------------------------------

    @http.route()
    def mailing_unsubscribe(
        self, mailing_id, document_id=None, email=None, hash_token=None, **_post
    ):
        """Unsubscribe on POST only; a GET shows the confirmation page.

        Link scanners and mail previews follow links with GET, so a GET must
        not opt anyone out (RFC 8058). The one-click route calls this method
        during its POST request.
        """
        if request.httprequest.method != "POST":
            return self.mailing_confirm_unsubscribe(
                mailing_id, document_id=document_id, email=email, hash_token=hash_token
            )
        invalid_page = self._fan_check_link(mailing_id, document_id, email, hash_token)
        if invalid_page:
            return invalid_page
        return super().mailing_unsubscribe(
            mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )

    @http.route()
    def mailing_unsubscribe_oneclick(
        self, mailing_id, document_id=None, email=None, hash_token=None, **post
    ):
        invalid_page = self._fan_check_link(mailing_id, document_id, email, hash_token)
        if invalid_page:
            return invalid_page
        return super().mailing_unsubscribe_oneclick(
            mailing_id, document_id=document_id, email=email, hash_token=hash_token, **post
        )

    @http.route()
    def mailing_confirm_unsubscribe(
        self, mailing_id, document_id=None, email=None, hash_token=None
    ):
        invalid_page = self._fan_check_link(mailing_id, document_id, email, hash_token)
        if invalid_page:
            return invalid_page
        return super().mailing_confirm_unsubscribe(
            mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )

    @http.route()
    def mailing_confirm_unsubscribe_post(
        self, mailing_id=None, document_id=None, email=None, hash_token=None
    ):
        invalid_page = self._fan_check_link(mailing_id, document_id, email, hash_token)
        if invalid_page:
            return invalid_page
        response = super().mailing_confirm_unsubscribe_post(
            mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )
        # Point "Manage Subscriptions" to the fan preference page: the stock
        # link now leads back to the confirmation page.
        if hasattr(response, "qcontext") and hash_token:
            response.qcontext["settings_url"] = self._fan_preference_url(
                mailing_id, document_id, email, hash_token
            )
        return response

    def _mailing_unsubscribe_from_document(self, mailing, document_id, email, hash_token):
        response = super()._mailing_unsubscribe_from_document(
            mailing, document_id, email, hash_token
        )
        self._fan_withdraw_email_consent(mailing, document_id, email)
        return response

    def _mailing_unsubscribe_from_list(self, mailing, document_id, email, hash_token):
        response = super()._mailing_unsubscribe_from_list(mailing, document_id, email, hash_token)
        self._fan_withdraw_email_consent(mailing, document_id, email)
        return response

    @http.route()
    def mail_blocklist_add(self, mailing_id=None, document_id=None, email=None, hash_token=None):
        # The stock route returns "error" for an incomplete request.
        if any(value and not _is_id_text(value) for value in (mailing_id, document_id)):
            return "error"
        if mailing_id and int(mailing_id) > MAX_RECORD_ID:
            return "unauthorized"
        result = super().mail_blocklist_add(
            mailing_id=mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )
        if result is True:
            email_found, _token = self._fetch_user_information(email, hash_token)
            mailing_sudo = request.env["mailing.mailing"].sudo().browse(mailing_id or [])
            self._fan_withdraw_email_consent(mailing_sudo, document_id, email_found)
        return result

    # ------------------------------------------------------------
    # FAN PREFERENCE PAGE
    # ------------------------------------------------------------

    @http.route(
        "/mailing/<int:mailing_id>/fan_preferences",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def fan_preferences(self, mailing_id, document_id=None, email=None, hash_token=None, **post):
        """Let a fan switch email, SMS and WeChat marketing on or off.

        Access is signed by the mailing's recipient token. A GET only shows
        the current state. A POST (with CSRF token) records the changes in the
        consent ledger.
        """
        invalid_page = self._fan_check_link(
            mailing_id, document_id, email, hash_token, session_user=False
        )
        if invalid_page:
            return invalid_page
        mailing_sudo = request.env["mailing.mailing"].sudo().browse(mailing_id)
        partners = self._fan_find_partners(mailing_sudo, document_id, email)
        if not partners:
            return self._fan_invalid_link_page("not_found")
        partner = partners[0]
        saved = False
        if request.httprequest.method == "POST":
            has_wechat = bool(
                partner.fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid")
            )
            available = {"email": True, "sms": bool(partner.fan_mobile), "wechat": has_wechat}
            # A channel the page does not offer is left as it is, whatever the POST contains.
            wanted = {
                channel: bool(post.get(f"consent_{channel}"))
                for channel in PREFERENCE_CHANNELS
                if available[channel]
            }
            self._fan_apply_preferences(mailing_sudo, partners, email, wanted)
            preferred = post.get("preferred_channel") or False
            if preferred in PREFERENCE_CHANNELS or preferred is False:
                partners.sudo().write({"fan_preferred_channel": preferred})
            saved = True
            partner.invalidate_recordset(["consent_email", "consent_sms", "consent_wechat"])
        lang = partner.lang or "zh_CN"
        if request.env["res.lang"]._get_data(code=lang):
            request.update_context(lang=lang)
        return request.render(
            "freelancer_mass_mail.page_fan_preferences",
            {
                "mailing_id": mailing_id,
                "document_id": document_id,
                "email": email,
                "hash_token": hash_token,
                "partner": partner,
                "saved": saved,
                "has_mobile": bool(partner.fan_mobile),
                "has_wechat": bool(
                    partner.fan_identity_ids.filtered(lambda i: i.channel == "wechat_openid")
                ),
            },
        )

    def _fan_preference_url(self, mailing_id, document_id, email, hash_token):
        params = urllib.parse.urlencode(
            {"document_id": document_id, "email": email, "hash_token": hash_token}
        )
        return f"/mailing/{int(mailing_id)}/fan_preferences?{params}"

    def _fan_apply_preferences(self, mailing_sudo, partners, email, wanted):
        for channel, want in wanted.items():
            current = partners[0][f"consent_{channel}"]
            if want and current != "granted":
                self._fan_record(partners, channel, "grant", "preference_page", mailing_sudo, email)
                if channel == "email":
                    request.env["mail.blacklist"].sudo()._remove(
                        email, message=request.env._("Consent granted on the preference page")
                    )
            elif not want and current in ("granted", "pending"):
                self._fan_record(
                    partners, channel, "withdraw", "preference_page", mailing_sudo, email
                )
                if channel == "email":
                    request.env["mail.blacklist"].sudo()._add(
                        email, message=request.env._("Consent withdrawn on the preference page")
                    )

    # ------------------------------------------------------------
    # INVALID LINKS
    # ------------------------------------------------------------

    def _fan_check_link(self, mailing_id, document_id, email, hash_token, session_user=True):
        """Return None when a recipient link is valid, else the invalid-link page to show.

        The check is the stock routes' own (``_check_mailing_email_token``),
        made first so that a tampered or incomplete link gets a page in the
        visitor's language instead of Odoo's English error page. With
        ``session_user``, a logged-in user without token is checked with
        their own email address, as the stock unsubscribe routes do.
        """
        if session_user:
            email, hash_token = self._fetch_user_information(email, hash_token)
        # The stock check converts both ids with int() and raises ValueError
        # (HTTP 500) on text, so ids that are not numbers are rejected here.
        if not _is_id_text(mailing_id) or (document_id and not _is_id_text(document_id)):
            return self._fan_invalid_link_page("incomplete")
        mailing_id = int(mailing_id)
        if not 0 < mailing_id <= MAX_RECORD_ID:
            # Same page as an unknown mailing, because no mailing has this id.
            return self._fan_invalid_link_page("invalid")
        try:
            self._check_mailing_email_token(
                mailing_id, document_id, email, hash_token, required_mailing_id=True
            )
        except BadRequest:
            return self._fan_invalid_link_page("incomplete")
        except (NotFound, Unauthorized):
            # An unknown mailing gets the same page as a wrong token, so the
            # page does not tell which mailing ids exist.
            return self._fan_invalid_link_page("invalid")
        return None

    def _fan_invalid_link_page(self, reason):
        """Render the invalid-link page in the visitor's language with the status of ``reason``."""
        lang = set_page_lang()
        _logger.info(
            "Subscription link rejected (%s) for %s %s",
            reason,
            request.httprequest.method,
            request.httprequest.path,
        )
        return request.render(
            INVALID_LINK_TEMPLATE,
            {"reason": reason, "lang": lang},
            status=INVALID_LINK_STATUS[reason],
        )

    # ------------------------------------------------------------
    # TOOLS
    # ------------------------------------------------------------

    def _fan_find_partners(self, mailing, document_id, email):
        """Return the mailed contact and the fans who share its email address."""
        Partner = request.env["res.partner"].sudo()
        partners = Partner.browse()
        if mailing and mailing.mailing_model_real == "res.partner" and document_id:
            try:
                partners = Partner.browse(int(document_id)).exists()
            except (TypeError, ValueError):
                partners = Partner.browse()
        email_normalized = tools.email_normalize(email or "")
        if email_normalized:
            partners |= Partner.search(
                [("email_normalized", "=", email_normalized), ("is_fan", "=", True)]
            )
        return partners

    def _fan_record(self, partners, channel, action, source, mailing, email):
        httprequest = request.httprequest
        address = False
        if channel == "email":
            address = email
        elif channel == "sms":
            address = partners[0].fan_mobile
        partners._fan_record_consent(
            channel,
            action,
            source,
            address=address or False,
            ip_address=httprequest.remote_addr,
            user_agent=(httprequest.headers.get("User-Agent") or "")[:512],
            proof=f"{httprequest.method} {httprequest.path}",
            res_model="mailing.mailing" if mailing else False,
            res_id=mailing.id if mailing else False,
        )

    def _fan_withdraw_email_consent(self, mailing, document_id, email):
        """Record an email consent withdrawal (unsubscribe link) for the fans concerned.

        Fans whose email consent is already withdrawn get no new entry, so
        repeated one-click POSTs from mail clients do not flood the ledger.
        """
        partners = self._fan_find_partners(mailing, document_id, email)
        partners = partners.filtered(lambda p: p.consent_email != "withdrawn")
        if partners:
            self._fan_record(partners, "email", "withdraw", "unsubscribe_link", mailing, email)


SMS_PUSH_MODULES = {"aliyun": sms_provider_aliyun, "tencent": sms_provider_tencent}


class FanSmsController(MailingSMSController):
    @http.route()
    def blacklist_number(self, mailing_id, trace_code, **post):
        """Record an SMS consent withdrawal when the stock SMS opt-out page opts a number out."""
        response = super().blacklist_number(mailing_id, trace_code, **post)
        number = post.get("sms_number", "").strip(" ")
        traces = self._check_trace(mailing_id, trace_code).get("trace")
        trace = traces.filtered(lambda t: t.sms_number == number)[:1] if traces and number else None
        if trace:
            self._fan_withdraw_sms_consent(trace, number)
        return response

    def _fan_withdraw_sms_consent(self, trace, number):
        Partner = request.env["res.partner"].sudo()
        partners = Partner.search([("fan_mobile", "=", number), ("is_fan", "=", True)])
        if trace.model == "res.partner" and trace.res_id:
            partners |= Partner.browse(trace.res_id).exists()
        partners = partners.filtered(lambda p: p.consent_sms != "withdrawn")
        if not partners:
            return
        httprequest = request.httprequest
        partners._fan_record_consent(
            "sms",
            "withdraw",
            "unsubscribe_link",
            address=number,
            ip_address=httprequest.remote_addr,
            user_agent=(httprequest.headers.get("User-Agent") or "")[:512],
            proof=f"{httprequest.method} {httprequest.path}",
            res_model="mailing.mailing",
            res_id=trace.mass_mailing_id.id,
        )

    # ------------------------------------------------------------
    # PROVIDER PUSHES: DELIVERY REPORTS AND REPLIES
    # ------------------------------------------------------------

    @http.route(
        "/freelancer_mass_mail/sms/<string:provider>/<string:kind>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
    )
    def fan_sms_push(self, provider, kind, token, **_kwargs):
        """Receive a delivery report or reply push from Aliyun or Tencent Cloud.

        Neither provider signs these pushes, so the URL carries the company's
        callback token, compared in constant time.
        """
        module = SMS_PUSH_MODULES.get(provider)
        if (
            not module
            or kind not in ("report", "reply")
            or not self._fan_check_push_token(provider, token)
        ):
            raise NotFound()
        try:
            payload = json.loads(request.httprequest.get_data() or b"null")
        except ValueError as error:
            _logger.warning("%s SMS %s push with invalid JSON: %s", provider, kind, error)
            raise BadRequest() from error

        if kind == "report":
            reports = module.parse_delivery_reports(payload)
            applied = (
                request.env["sms.tracker"].sudo()._fan_process_delivery_reports(provider, reports)
            )
            _logger.info(
                "%s SMS push: %s of %s delivery reports applied", provider, applied, len(reports)
            )
        else:
            Sms = request.env["sms.sms"].sudo()
            for number, text in module.parse_replies(payload):
                if number:
                    Sms._fan_process_reply(provider, number, text)
                else:
                    _logger.warning("%s SMS reply push with an invalid number ignored", provider)
        return request.make_json_response(module.PUSH_ACK)

    def _fan_check_push_token(self, provider, token):
        companies = request.env["res.company"].sudo().search([("fan_sms_provider", "=", provider)])
        return any(
            company.fan_sms_callback_token
            and hmac.compare_digest(company.fan_sms_callback_token.encode(), token.encode())
            for company in companies
        )
