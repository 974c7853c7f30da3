"""Checks on a mailing body that need no database access."""

import re

from lxml import etree, html

# Odoo's editor inserts this relative URL for the unsubscribe link; mail.mail
# replaces it with the per-recipient URL at send time.
UNSUBSCRIBE_PLACEHOLDER = "/unsubscribe_from_list"

# Per-recipient unsubscribe URLs, for bodies written with a full link.
UNSUBSCRIBE_URL_RE = re.compile(r"/mailing/\d+/(confirm_)?unsubscribe")


def _parse(body):
    if not body or not body.strip():
        return None
    try:
        return html.fromstring(body)
    except (etree.ParserError, ValueError):
        return None


def has_unsubscribe_link(body):
    """Return True when ``body`` links to the unsubscribe placeholder or URL."""
    if not body:
        return False
    return UNSUBSCRIBE_PLACEHOLDER in body or bool(UNSUBSCRIBE_URL_RE.search(body))


def html_size_bytes(body):
    """Return the size of ``body`` encoded as UTF-8, in bytes."""
    return len((body or "").encode("utf-8"))


def count_links(body):
    """Return the number of ``<a href>`` links, mailto and anchors excluded."""
    tree = _parse(body)
    if tree is None:
        return 0
    count = 0
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and not href.startswith(("#", "mailto:", "tel:")):
            count += 1
    return count


def _visible_text(tree):
    for element in tree.iter("style", "script"):
        element.drop_tree()
    return re.sub(r"\s+", "", tree.text_content() or "")


def is_image_only(body, min_text_chars):
    """Return True when ``body`` has images but fewer than ``min_text_chars`` visible characters."""
    tree = _parse(body)
    if tree is None or not any(True for _img in tree.iter("img")):
        return False
    return len(_visible_text(tree)) < min_text_chars


def find_images_without_alt(body):
    """Return the ``src`` of each image whose ``alt`` text is missing or empty."""
    tree = _parse(body)
    if tree is None:
        return []
    return [img.get("src") or "" for img in tree.iter("img") if not (img.get("alt") or "").strip()]


def find_spam_words(text, words):
    """Return the words of ``words`` found in ``text``, case-insensitive, in list order."""
    if not text:
        return []
    lowered = text.lower()
    return [word for word in words if word and word.lower() in lowered]
