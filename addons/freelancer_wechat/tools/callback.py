"""Checks on a WeChat callback request that need no database."""

import re
import time

from wechatpy.replies import ArticlesReply, ImageReply, TextReply, VideoReply, VoiceReply

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


def render_reply(message, payload):
    """Render the XML of the passive reply to ``message`` that sends ``payload``.

    ``payload`` is a reply as stored in the message log, a dict whose ``type``
    selects the other keys. A text has ``content``, an image or voice reply
    ``media_id``, a video ``media_id``, ``title`` and ``description``, and news
    ``articles``, a list of dicts with ``title``, ``description``, ``picurl``
    and ``url``. Raises ValueError for another type.
    """
    reply_type = payload.get("type")
    if reply_type == "text":
        reply = TextReply(message=message, content=escape_cdata(payload.get("content")))
    elif reply_type == "image":
        reply = ImageReply(message=message, image=escape_cdata(payload.get("media_id")))
    elif reply_type == "voice":
        reply = VoiceReply(message=message, voice=escape_cdata(payload.get("media_id")))
    elif reply_type == "video":
        video = {"media_id": escape_cdata(payload.get("media_id"))}
        # wechatpy writes Title and Description only when the keys are present.
        for key in ("title", "description"):
            if payload.get(key):
                video[key] = escape_cdata(payload[key])
        reply = VideoReply(message=message, video=video)
    elif reply_type == "news":
        articles = [
            {
                "title": escape_cdata(article.get("title")),
                "description": escape_cdata(article.get("description")),
                "image": escape_cdata(article.get("picurl")),
                "url": escape_cdata(article.get("url")),
            }
            for article in payload.get("articles") or []
        ]
        reply = ArticlesReply(message=message, articles=articles)
    else:
        raise ValueError(f"unknown reply type {reply_type!r}")
    return reply.render()
