"""Normalisation of the contact keys people type in China."""

import re

import idna
import phonenumbers

from odoo.tools import email_normalize

# RFC 5321 (section 4.5.3.1): a path contains at most 256 octets including the
# angle brackets, so an address at most 254, and a local part at most 64.
EMAIL_MAX_LENGTH = 254
EMAIL_LOCAL_MAX_LENGTH = 64

# Longer text is no phone number, even with separators and an extension,
# and is not worth parsing.
PHONE_MAX_LENGTH = 40

# Characters that people put between several numbers in one cell. phonenumbers
# would silently keep the first of "13200132000;13200132001".
PHONE_LIST_SEPARATORS_RE = re.compile(r"[;,/|\n；，、]")


def normalize_phone(raw, region="CN"):
    """Return ``raw`` as an E.164 number, or ``False`` when it is not a valid number.

    ``phonenumbers`` strips the separators and the ``86``/``0086``/``+86``
    prefixes people write before Chinese numbers, and accepts landlines with
    their area code (``010-12345678``). Text listing several numbers, or
    longer than ``PHONE_MAX_LENGTH``, is not a valid number.
    """
    if not raw:
        return False
    text = str(raw).strip()
    if not text or len(text) > PHONE_MAX_LENGTH or PHONE_LIST_SEPARATORS_RE.search(text):
        return False
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Characters that people put between several addresses in one cell.
EMAIL_LIST_SEPARATORS_RE = re.compile(r"[;,|\n；，、]")

# One local part, one @, a domain with a dot: what a contact list should hold.
# email_normalize alone would pull an address out of text like "bad@@mail".
# Quotes, brackets, colons and backslashes are excluded because Odoo's mail
# server drops addresses that need RFC 5322 quoting.
EMAIL_RE = re.compile(r'^[^@\s<>,;:"()\[\]\\]+@[^@\s<>,;:"()\[\]\\]+\.[^@\s<>,;:"()\[\]\\]+$')


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
    """Return ``raw`` stripped and lowercased, or ``False`` when it is not one email address.

    An internationalised domain (``例子.中国``) is converted to punycode
    (``xn--fsqu00a.xn--fiqs8s``). Odoo 19 sends to the punycode form, but
    fails a unicode domain as ``mail_email_invalid``, because its mail.mail
    compares the punycode SMTP recipient with the unicode stored address.
    """
    if not raw:
        return False
    text = str(raw).strip()
    # Checked before the regular expression so that huge cells cost nothing.
    if len(text) > EMAIL_MAX_LENGTH * 4 or not EMAIL_RE.match(text):
        return False
    local_part, _at, domain = text.rpartition("@")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except UnicodeError:  # idna.IDNAError is a UnicodeError too
            return False
    address = f"{local_part}@{domain}"
    if len(address) > EMAIL_MAX_LENGTH or len(local_part) > EMAIL_LOCAL_MAX_LENGTH:
        return False
    normalized = email_normalize(address) or False
    # Odoo must read the stored value back as the same single address.
    if normalized and email_normalize(normalized) != normalized:
        return False
    return normalized


def split_emails(raw):
    """Return the non-empty parts of a cell that may list several email addresses."""
    parts = EMAIL_LIST_SEPARATORS_RE.split(str(raw or ""))
    return [part.strip() for part in parts if part.strip()]


def split_phones(raw):
    """Return the non-empty parts of a cell that may list several phone numbers."""
    parts = PHONE_LIST_SEPARATORS_RE.split(str(raw or ""))
    return [part.strip() for part in parts if part.strip()]


def mask_phone(e164):
    """Return a phone number with its middle digits hidden, for logs."""
    if not e164:
        return ""
    return f"{e164[:5]}****{e164[-2:]}"
