import logging
import struct
import time
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.fields import DateTimeField, FloatField, IntegerField, StringField
from wechatpy.utils import check_signature
from werkzeug.exceptions import RequestEntityTooLarge

from odoo.http import Controller, request, route
from odoo.tools import config

from ..tools import (
    MAX_BODY_BYTES,
    CallbackError,
    check_timestamp,
    decode_body,
    render_reply,
)

_logger = logging.getLogger(__name__)

# WeChat drops a passive reply that arrives after 5 seconds and retries the
# push. A reply ready later than this is sent through the customer-service
# API instead, leaving a margin for the response to travel back.
REPLY_BUDGET_SECONDS = 4.0


class WechatCallbackController(Controller):
    """Server URL of a WeChat Official Account: URL check (GET) and pushes (POST)."""

    @route(
        "/wechat/callback/<int:account_id>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def wechat_callback(self, account_id, **params):
        account = self._get_account(account_id)
        if not account:
            return request.make_response("not found", status=404, headers=_TEXT)
        try:
            if request.httprequest.method == "GET":
                return self._verify_url(account, params)
            return self._receive(account, params)
        except CallbackError as error:
            _logger.warning(
                "WeChat callback for account %s rejected (HTTP %s): %s",
                account.id,
                error.status,
                error.reason,
            )
            return request.make_response(error.reason, status=error.status, headers=_TEXT)

    def _get_account(self, account_id):
        # sudo: the caller is WeChat, as the public user, and must not read accounts.
        # The record only serves to check the signature; it is never returned.
        # An archived account no longer receives pushes.
        return request.env["wechat.account"].sudo().browse(account_id).exists().filtered("active")

    def _verify_url(self, account, params):
        """Return ``echostr`` when the URL check is signed with the account's token.

        WeChat signs the URL check with the token alone, in every message mode,
        so the plain ``signature`` is checked even for a safe-mode account.
        """
        self._check_signature(account, params)
        check_timestamp(params.get("timestamp"))
        return request.make_response(params.get("echostr") or "", headers=_TEXT)

    def _receive(self, account, params):
        started = time.monotonic() - self._proxy_wait_seconds()
        data = self._read_body()
        encrypted = params.get("encrypt_type") == "aes"
        if account.message_mode == "safe" and not encrypted:
            raise CallbackError(403, "safe mode requires an encrypted message")
        if encrypted and not account.encoding_aes_key:
            raise CallbackError(400, "encrypted message but no EncodingAESKey configured")

        text = decode_body(data)
        if encrypted:
            xml = self._decrypt(account, text, params)
        else:
            self._check_signature(account, params)
            xml = text
        check_timestamp(params.get("timestamp"))
        # The decrypted XML is checked like a plain body: the signature only proves
        # that it was made with the token, not that it is well formed.
        xml = decode_body(xml.encode("utf-8"))
        message = self._parse(xml)

        payload = self._process(account, message, xml)
        if payload and time.monotonic() - started > REPLY_BUDGET_SECONDS:
            account.sudo()._wechat_queue_late_reply(message)
            payload = None
        if not payload:
            # A "success" body stops WeChat retries and shows the follower nothing.
            return request.make_response("success", headers=_TEXT)
        reply = render_reply(message, payload)
        if encrypted:
            reply = account._get_crypto().encrypt_message(
                reply, params.get("nonce") or "", str(int(time.time()))
            )
        return request.make_response(reply, headers=_XML)

    def _proxy_wait_seconds(self):
        """Return the seconds since the reverse proxy received the request, or 0.

        Time a push waits for a free Odoo worker is invisible inside the
        request, so behind a proxy (``proxy_mode``) the reply budget starts at
        the proxy's ``X-Request-Start: t=<epoch>`` stamp, as nginx writes it
        with ``t=${msec}`` (seconds) or Apache with ``t=%t`` (microseconds).
        """
        # NOTE: without proxy_mode and the stamp, the wait for a free worker
        # is not counted, and a push that waited long can miss WeChat's 5 s.
        if not config["proxy_mode"]:
            return 0.0
        stamp = request.httprequest.headers.get("X-Request-Start", "").removeprefix("t=")
        try:
            value = float(stamp)
        except ValueError:
            return 0.0
        if value > 1e14:  # microseconds
            value /= 1e6
        elif value > 1e11:  # milliseconds
            value /= 1e3
        # A stamp from the future or from long ago is a wrong clock, not a wait.
        wait = time.time() - value
        return wait if 0 < wait < 60 else 0.0

    def _read_body(self):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            raise CallbackError(413, "body too large")
        try:
            return httprequest.get_data()
        except RequestEntityTooLarge:
            raise CallbackError(413, "body too large") from None

    def _check_signature(self, account, params):
        if not account.token:
            raise CallbackError(403, "no token configured")
        try:
            check_signature(
                account.token,
                params.get("signature") or "",
                params.get("timestamp") or "",
                params.get("nonce") or "",
            )
        except InvalidSignatureException:
            raise CallbackError(403, "invalid signature") from None

    def _decrypt(self, account, text, params):
        crypto = account._get_crypto()
        try:
            return crypto.decrypt_message(
                text,
                params.get("msg_signature") or "",
                params.get("timestamp") or "",
                params.get("nonce") or "",
            )
        except InvalidSignatureException:
            raise CallbackError(403, "invalid msg_signature") from None
        except InvalidAppIdException:
            raise CallbackError(403, "message encrypted for another AppID") from None
        except (
            ExpatError,
            KeyError,
            TypeError,
            ValueError,
            IndexError,
            UnicodeError,
            struct.error,
        ):
            # Bad XML envelope, missing Encrypt node, bad base64 or padding, or a
            # decrypted text too short for its length prefix.
            raise CallbackError(400, "invalid encrypted message") from None

    def _parse(self, xml):
        try:
            message = parse_message(xml)
            # Reading every field converts it, so a non-numeric MsgId or
            # CreateTime, or an out-of-range value, fails here rather than later.
            # Nested elements where WeChat sends text make wechatpy fail with
            # AttributeError or leave a dict in place of a string.
            for name in getattr(type(message), "_fields", {}):
                getattr(message, name)
            complete = message is not None and isinstance(message.source, str) and message.time
            # Only text fields are checked: some events carry nested elements
            # of their own, such as CopyrightCheckResult or ScanCodeInfo.
            data = getattr(message, "_data", {})
            nested = any(isinstance(data.get(tag), dict) for tag in _text_tags(message))
        except (
            ExpatError,
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            OSError,
            OverflowError,
        ):
            raise CallbackError(400, "malformed XML") from None
        if nested:
            raise CallbackError(400, "malformed XML: nested element in a text field")
        try:
            # CreateTime is seconds since 1970; anything past 2100 cannot be real.
            valid_time = 0 <= int(message.time) < 4102444800
        except (TypeError, ValueError):
            valid_time = False
        if not valid_time:
            raise CallbackError(400, "CreateTime out of range")
        if not complete:
            raise CallbackError(400, "FromUserName or CreateTime missing")
        return message

    def _process(self, account, message, xml):
        # sudo: the public user may not touch fans, consents or the message log.
        # This is safe because the request has passed the signature check, so the
        # message comes from WeChat, and only the records it names are written.
        return account.sudo()._wechat_handle_message(message, xml)


def _text_tags(message):
    """Return the XML tags of ``message`` that must hold text, not elements."""
    tags = {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey"}
    for field in getattr(type(message), "_fields", {}).values():
        if isinstance(field, (StringField, IntegerField, FloatField, DateTimeField)):
            tags.add(field.name)
    return tags


_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_XML = [("Content-Type", "application/xml; charset=utf-8")]
