"""Checks on a mailing body that need no database access."""

import re

from lxml import etree, html

# Odoo's editor inserts this relative URL for the unsubscribe link. When the
# mail is sent, mass_mailing (mail.mail._prepare_outgoing_list, Odoo 19)
# replaces "<base URL>/unsubscribe_from_list" with the recipient's own link.
UNSUBSCRIBE_PLACEHOLDER = "/unsubscribe_from_list"

# Inline styles that hide an element from the reader.
HIDDEN_STYLE_RE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all)",
    re.IGNORECASE,
)
HIDDEN_CLASSES = frozenset({"d-none", "hidden", "o_hidden", "visually-hidden"})


def _parse(body):
    if not body or not body.strip():
        return None
    try:
        return html.fromstring(body)
    except (etree.ParserError, ValueError):
        return None


def _is_hidden(element):
    """Return True when ``element`` or one of its ancestors is hidden from the reader."""
    for node in (element, *element.iterancestors()):
        if not isinstance(node.tag, str):
            continue
        if node.tag in ("head", "style", "script", "template", "title"):
            return True
        if node.get("hidden") is not None:
            return True
        if HIDDEN_STYLE_RE.search(node.get("style") or ""):
            return True
        if HIDDEN_CLASSES & set((node.get("class") or "").split()):
            return True
    return False


def _is_unsubscribe_href(href, base_url):
    href = (href or "").strip()
    prefixes = [UNSUBSCRIBE_PLACEHOLDER]
    if base_url:
        prefixes.append(base_url.rstrip("/") + UNSUBSCRIBE_PLACEHOLDER)
    for prefix in prefixes:
        if href == prefix or href.startswith((prefix + "?", prefix + "#")):
            return True
    return False


def has_unsubscribe_link(body, base_url=None):
    """Return True when ``body`` has a visible ``<a href>`` to the unsubscribe placeholder.

    The href must be the placeholder, relative or prefixed with ``base_url``,
    because mass_mailing replaces only those with the recipient's link. The
    link must have text or an image, and neither it nor an ancestor may be
    hidden by a ``hidden`` attribute, an inline ``display: none``,
    ``visibility: hidden`` or ``mso-hide: all``, or a hiding class. Styles
    from ``<style>`` sheets are not evaluated.
    """
    tree = _parse(body)
    if tree is None:
        return False
    for anchor in tree.iter("a"):
        if not _is_unsubscribe_href(anchor.get("href"), base_url):
            continue
        has_content = bool((anchor.text_content() or "").strip()) or any(
            True for _img in anchor.iter("img")
        )
        if has_content and not _is_hidden(anchor):
            return True
    return False


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
