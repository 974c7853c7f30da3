"""Checks on a WeChat callback request that need no database."""

import re
import time

# WeChat pushes are a few kilobytes; anything larger is not from WeChat.
MAX_BODY_BYTES = 64 * 1024
# Maximum difference, in seconds, between the request timestamp and the server clock.
MAX_TIMESTAMP_SKEW = 300

# A DTD can declare entities (billion laughs, external entities), and WeChat never sends one.
_DTD_PATTERN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class CallbackError(Exception):
    """A callback request rejected before any processing, with its HTTP status."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_timestamp(timestamp, now=None):
    """Raise CallbackError (403) unless ``timestamp`` is within MAX_TIMESTAMP_SKEW of now.

    Rejecting old timestamps stops a captured, correctly signed request from
    being replayed later.
    """
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        raise CallbackError(403, "invalid timestamp") from None
    now = time.time() if now is None else now
    if abs(now - value) > MAX_TIMESTAMP_SKEW:
        raise CallbackError(403, "stale timestamp")
    return value


def decode_body(data):
    """Return the request body as text, or raise CallbackError (413 or 400).

    The body must be UTF-8 XML of at most MAX_BODY_BYTES without a DTD.
    """
    if len(data) > MAX_BODY_BYTES:
        raise CallbackError(413, "body too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackError(400, "body is not UTF-8") from None
    if not text.strip():
        raise CallbackError(400, "empty body")
    if _DTD_PATTERN.search(text):
        raise CallbackError(400, "DOCTYPE or ENTITY declaration")
    return text


def escape_cdata(text):
    """Return ``text`` safe to place inside a CDATA section.

    wechatpy's reply fields wrap values in ``<![CDATA[...]]>`` without escaping,
    so a ``]]>`` in a reply would end the section early and break the XML.
    """
    return (text or "").replace("]]>", "]]]]><![CDATA[>")
