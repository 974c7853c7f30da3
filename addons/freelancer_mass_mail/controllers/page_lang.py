from odoo.http import request

# Languages the public pages are offered in, the first being the default.
PAGE_LANGS = ("zh_CN", "en_US")


def set_page_lang(requested_lang=None):
    """Switch the request to ``requested_lang``, else the browser's language, else Chinese.

    Only installed languages among PAGE_LANGS are used. Returns the code.
    """
    installed = {code for code, _name in request.env["res.lang"].get_installed()}
    offered = [code for code in PAGE_LANGS if code in installed] or ["en_US"]
    lang = requested_lang if requested_lang in offered else None
    if not lang:
        accepted = request.httprequest.accept_languages.best_match(
            [code.replace("_", "-") for code in offered]
        )
        lang = accepted.replace("-", "_") if accepted else offered[0]
    request.update_context(lang=lang)
    return lang
