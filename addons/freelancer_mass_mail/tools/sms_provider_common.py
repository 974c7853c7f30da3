"""Shared parts of the Aliyun and Tencent Cloud SMS clients.

Both clients call the providers' documented HTTP APIs with ``requests``
instead of the vendor SDKs (``alibabacloud-dysmsapi20170525``,
``tencentcloud-sdk-python-sms``). The addon then needs no extra PyPI package,
and the same request and signature code runs in tests against the fake
servers on 127.0.0.1.
"""

import logging
import re
import unicodedata

import requests

from odoo.addons.freelancer_crm.tools import mask_phone, normalize_phone
from odoo.addons.sms.tools.sms_api import SmsApiBase

_logger = logging.getLogger(__name__)

# Result states returned by ``_send_sms_batch``. ``success`` is mapped by
# sms.sms to "Sent"; the others through PROVIDER_TO_SMS_FAILURE_TYPE.
STATE_SUCCESS = "success"
STATE_OUTCOME_UNKNOWN = "fan_sms_outcome_unknown"

# Outcomes returned by ``_query_send_status`` for an SMS whose outcome is unknown.
QUERY_DELIVERED = "delivered"
# The provider accepted the SMS and has no delivery report yet.
QUERY_SENT = "sent"
QUERY_UNDELIVERED = "undelivered"
# The provider has no record of the SMS and keeps a record of every accepted
# request, so the SMS was not sent.
QUERY_NOT_SENT = "not_sent"
# No record found, but the provider's records cannot prove the SMS was not sent.
QUERY_NOT_FOUND = "not_found"
QUERY_FAILED = "query_failed"

# Replies that opt out of marketing SMS: T and TD (Aliyun "回T退订"),
# R (Tencent Cloud "拒收请回复R") and N.
OPT_OUT_REPLIES = frozenset({"T", "TD", "R", "N"})
REPLY_PUNCTUATION = " \t\r\n.,!。，！"
SIGNATURE_RE = re.compile(r"^【([^【】]{1,32})】")


def is_opt_out_reply(text):
    """Return True when an SMS reply is an opt-out keyword.

    The check ignores case, surrounding blanks and punctuation, and the width
    of the characters, so "Ｔ", " td " and "r。" all match.
    """
    normalized = unicodedata.normalize("NFKC", text or "").strip(REPLY_PUNCTUATION).upper()
    return normalized in OPT_OUT_REPLIES


def split_signature(body, default_sign_name):
    """Return ``(sign_name, text)``: the leading 【signature】 of ``body`` and the rest.

    Providers add the signature themselves from the SignName parameter, so it
    is taken out of the text. A body without one is signed with
    ``default_sign_name``.
    """
    body = (body or "").strip()
    match = SIGNATURE_RE.match(body)
    if match:
        return match.group(1).strip(), body[match.end() :].lstrip()
    return (default_sign_name or "").strip(), body


class FanSmsApiBase(SmsApiBase):
    """SMS API of a provider configured on the company (``fan_sms_*`` fields).

    ``_send_sms_batch`` returns, per SMS, ``uuid``, ``state``,
    ``failure_reason``, ``fan_sms_provider_ref`` (the provider's id of the
    message, used to match delivery reports) and ``fan_sms_attempt_state``.
    """

    PROVIDER = None
    DEFAULT_ENDPOINT = None
    # Seconds to wait for the provider's response. Past it, the SMS may or may
    # not have been sent, so it is not sent again automatically.
    TIMEOUT = 10
    PROVIDER_TO_SMS_FAILURE_TYPE = SmsApiBase.PROVIDER_TO_SMS_FAILURE_TYPE | {
        "sms_credit": "sms_credit",
        "sms_acc": "sms_acc",
        STATE_OUTCOME_UNKNOWN: STATE_OUTCOME_UNKNOWN,
    }

    def _get_config(self):
        company_sudo = self.company.sudo()
        return {
            "key_id": company_sudo.fan_sms_key_id or "",
            "key_secret": company_sudo.fan_sms_key_secret or "",
            "sign_name": company_sudo.fan_sms_sign_name or "",
            "template_code": company_sudo.fan_sms_template_code or "",
            "template_param": company_sudo.fan_sms_template_param or "content",
            "app_id": company_sudo.fan_sms_app_id or "",
            "region": company_sudo.fan_sms_region or "",
            "endpoint": (company_sudo.fan_sms_endpoint or self.DEFAULT_ENDPOINT).rstrip("/"),
        }

    def _post(self, session, url, **kwargs):
        """POST to the provider and return ``(response, error_state)``.

        A connect timeout means the request never left, so the SMS can be sent
        again. Any other network error (read timeout, connection reset) leaves
        the outcome unknown.
        """
        try:
            return session.post(url, timeout=self.TIMEOUT, **kwargs), None
        except requests.exceptions.ConnectTimeout as error:
            _logger.warning("%s SMS API not reached: %s", self.PROVIDER, error)
            return None, "server_error"
        except requests.exceptions.RequestException as error:
            _logger.warning("%s SMS API request failed, outcome unknown: %s", self.PROVIDER, error)
            return None, STATE_OUTCOME_UNKNOWN

    @staticmethod
    def _result(uuid, state, reason=False, ref=False):
        return {
            "uuid": uuid,
            "state": state,
            "failure_reason": reason,
            "fan_sms_provider_ref": ref,
            "fan_sms_attempt_state": {
                STATE_SUCCESS: "accepted",
                STATE_OUTCOME_UNKNOWN: "unknown",
            }.get(state, "rejected"),
        }

    def _log_result(self, number, result):
        if result["state"] == STATE_SUCCESS:
            _logger.info(
                "%s SMS %s to %s accepted, provider id %s",
                self.PROVIDER,
                result["uuid"],
                mask_phone(number),
                result["fan_sms_provider_ref"],
            )
        else:
            _logger.warning(
                "%s SMS %s to %s failed: %s %s",
                self.PROVIDER,
                result["uuid"],
                mask_phone(number),
                result["state"],
                result["failure_reason"],
            )

    def _query_send_status(self, queries, known_refs=()):
        """Ask the provider what became of SMS whose outcome is unknown.

        ``queries`` is a list of dicts with ``uuid``, ``number`` (E.164),
        ``ref`` (the provider message id, or False when the response was lost)
        and ``requested_at`` (naive UTC datetime of the request).
        ``known_refs`` are the message ids of other SMS, which a provider
        that matches by number and time must not give to these. Returns one
        dict per query with ``uuid``, ``status`` (a ``QUERY_*`` value),
        ``ref`` and ``reason``.
        """
        raise NotImplementedError()

    @staticmethod
    def _query_result(query, status, ref=False, reason=False):
        return {
            "uuid": query["uuid"],
            "status": status,
            "ref": ref or query.get("ref") or False,
            "reason": reason,
        }

    def _get_sms_api_error_messages(self):
        messages = super()._get_sms_api_error_messages()
        messages[STATE_OUTCOME_UNKNOWN] = self.env._(
            "The SMS provider did not respond in time, so the SMS may have been sent. "
            "Check the provider console before sending it again."
        )
        return messages


def e164_from_parts(number, country_code=None):
    """Return the E.164 form of a number from a provider push, or False.

    Without ``country_code`` a number with no ``+`` is read as a mainland
    China number, as Aliyun pushes them ("13800138000").
    """
    number = (number or "").strip()
    if country_code and number and not number.startswith("+"):
        number = f"+{country_code}{number}"
    return normalize_phone(number)
