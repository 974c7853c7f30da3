"""Bounce classification from delivery status notifications (RFC 3464, RFC 3463)."""

import re

# RFC 3463 status code: class.subject.detail, class 2 (success), 4 (transient)
# or 5 (permanent).
STATUS_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def extract_dsn_status(email_message):
    """Return the first RFC 3463 status code of a bounce email, or None.

    Reads the ``Status`` field of the ``message/delivery-status`` part, which
    Python's email package parses into one sub-message per field group.
    """
    if email_message is None or not hasattr(email_message, "walk"):
        return None
    for part in email_message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        groups = payload if isinstance(payload, list) else [part]
        for group in groups:
            match = STATUS_RE.search(str(group.get("Status", "")))
            if match:
                return match.group(0)
    return None


def classify_bounce(status=None, text=None):
    """Return ``(bounce_type, status)`` with bounce_type ``'hard'`` or ``'soft'``.

    ``status`` is an RFC 3463 code; without one, the first code found in
    ``text`` (the bounce message body) is used. 5.x.x is permanent (hard),
    4.x.x transient (soft). A bounce without any code counts as soft, so one
    unexplained bounce never withdraws consent on its own.
    """
    if not status and text:
        match = STATUS_RE.search(text)
        status = match.group(0) if match else None
    if status and status.startswith("5."):
        return "hard", status
    return "soft", status or False
