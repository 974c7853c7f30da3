"""Normalisation of the contact keys people type in China."""

import re

import phonenumbers

from odoo.tools import email_normalize


def normalize_phone(raw, region="CN"):
    """Return ``raw`` as an E.164 number, or ``False`` when it is not a valid number.

    ``phonenumbers`` strips the separators and the ``86``/``0086``/``+86``
    prefixes people write before Chinese numbers, and accepts landlines with
    their area code (``010-12345678``).
    """
    if not raw:
        return False
    text = str(raw).strip()
    if not text:
        return False
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# One local part, one @, a domain with a dot: what a contact list should hold.
# email_normalize alone would pull an address out of text like "bad@@mail".
EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def is_mobile_number(e164):
    """Tell whether an E.164 number can receive SMS (a mobile, not a landline)."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def normalize_email(raw):
    """Return ``raw`` stripped and lowercased, or ``False`` when it is not one email address."""
    if not raw:
        return False
    text = str(raw).strip()
    if not EMAIL_RE.match(text):
        return False
    return email_normalize(text) or False


def mask_phone(e164):
    """Return a phone number with its middle digits hidden, for logs."""
    if not e164:
        return ""
    return f"{e164[:5]}****{e164[-2:]}"
