"""Fan SMS composition and length counting (China carrier rules)."""

import math

# A UCS-2 SMS (any text with Chinese) carries 70 characters in one part. A longer
# message is split into parts of 67, because each part spends 3 characters on
# the concatenation header. Aliyun and Tencent Cloud count signature, body and
# refusal wording alike, one character each.
SINGLE_PART_CHARS = 70
MULTI_PART_CHARS = 67


def compose_fan_sms(body, signature, refusal_text):
    """Return the SMS text sent to a fan: 【signature】 body refusal wording.

    The signature goes first, as MIIT rules and providers require. Parts that
    ``body`` already contains are not added twice.
    """
    body = (body or "").strip()
    signature = (signature or "").strip().strip("【】")
    refusal_text = (refusal_text or "").strip()
    prefix = f"【{signature}】" if signature else ""
    if prefix and body.startswith(prefix):
        prefix = ""
    text = prefix + body
    if refusal_text and refusal_text not in body:
        text = f"{text} {refusal_text}" if text else refusal_text
    return text


def sms_part_count(text):
    """Return the number of SMS parts ``text`` is billed as (0 for an empty text)."""
    length = len(text or "")
    if not length:
        return 0
    if length <= SINGLE_PART_CHARS:
        return 1
    return math.ceil(length / MULTI_PART_CHARS)
