import logging
import time

import regex

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)

# The WeChat back office allows at most 200 keyword reply rules per account.
MAX_RULES_PER_ACCOUNT = 200
REPLY_TYPES = [
    ("text", "Text"),
    ("image", "Image"),
    ("voice", "Voice"),
    ("video", "Video"),
    ("news", "Articles"),
    ("keyword_index", "Keyword Index"),
]
MEDIA_REPLY_TYPES = ("image", "voice", "video")
# Source: WeChat's passive reply documentation (被动回复用户消息). A reply to a
# follower's message shows one article. A reply to an event, such as a follow,
# shows up to 8.
MAX_MESSAGE_REPLY_ARTICLES = 1
MAX_EVENT_REPLY_ARTICLES = 8
# Maximum length of a regular expression keyword, in characters. This is this
# suite's own limit, far above the 30 characters of a back-office keyword.
MAX_REGEX_LENGTH = 200
# Seconds one regular expression may search a message before it counts as no match.
REGEX_TIMEOUT = 0.1
# Seconds between two warnings about the same rule timing out.
TIMEOUT_WARNING_INTERVAL = 60
_timeout_warned_at = {}


class WechatReplyRule(models.Model):
    _name = "wechat.reply.rule"
    _description = "WeChat Keyword Reply"
    _order = "sequence, id"
    _rec_name = "keyword"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    sequence = fields.Integer(
        string="Priority",
        default=10,
        help="When several rules match a message, the rule with the lowest number replies.",
    )
    keyword = fields.Char(required=True)
    match_type = fields.Selection(
        [
            ("exact", "Exact Match"),
            ("contains", "Contains"),
            ("prefix", "Starts With"),
            ("regex", "Regular Expression"),
        ],
        required=True,
        default="exact",
        help="How the keyword is compared with the message text. Exact, contains and "
        "starts-with ignore case and surrounding spaces; a regular expression is "
        "searched anywhere in the text (Python syntax), for at most 0.1 seconds.",
    )
    reply_type = fields.Selection(
        REPLY_TYPES,
        required=True,
        default="text",
        help="What the rule sends: a text, a material of the account, published articles "
        "or the keyword index, a text that lists the other keyword replies.",
    )
    reply_text = fields.Text(string="Reply")
    material_id = fields.Many2one(
        comodel_name="wechat.material",
        ondelete="restrict",
        domain="[('account_id', '=', account_id), ('media_type', '=', reply_type), "
        "('media_id', '!=', False)]",
        help="The image, voice or video sent. A video reply shows the material's title "
        "and description.",
    )
    article_ids = fields.Many2many(
        comodel_name="wechat.article",
        relation="wechat_reply_rule_article_rel",
        string="Articles",
        domain="[('account_id', '=', account_id), ('state', '=', 'published')]",
        help="The published article sent. WeChat shows one article in a reply to a message.",
    )
    description = fields.Char(
        help="Shown after the keyword in the keyword index, for example “past articles”."
    )
    keyword_index_preview = fields.Text(
        compute="_compute_keyword_index_preview",
        help="The text a keyword index reply sends now.",
    )
    active = fields.Boolean(default=True)
    hit_count = fields.Integer(
        string="Hits",
        compute="_compute_hit_count",
        help="Number of messages in the message log that this rule replied to.",
    )

    @api.constrains("keyword")
    def _check_keyword(self):
        for rule in self:
            if not (rule.keyword or "").strip():
                raise ValidationError(
                    self.env._(
                        "A keyword reply needs a keyword that is not only spaces: a blank "
                        "keyword would match every message."
                    )
                )

    @api.constrains("keyword", "match_type")
    def _check_regex(self):
        for rule in self.filtered(lambda r: r.match_type == "regex"):
            if len(rule.keyword) > MAX_REGEX_LENGTH:
                raise ValidationError(
                    self.env._(
                        "The regular expression “%(keyword)s” has %(length)s characters, but "
                        "at most %(max)s are allowed. Shorten it or split it into several "
                        "rules.",
                        keyword=rule.keyword,
                        length=len(rule.keyword),
                        max=MAX_REGEX_LENGTH,
                    )
                )
            try:
                regex.compile(rule.keyword)
            except regex.error as error:
                raise ValidationError(
                    self.env._(
                        "The keyword “%(keyword)s” is not a valid regular expression: "
                        "%(error)s. Fix the expression or choose another match type.",
                        keyword=rule.keyword,
                        error=error,
                    )
                ) from None

    @api.constrains("reply_type", "reply_text", "material_id", "article_ids", "account_id")
    def _check_reply(self):
        for rule in self:
            rule._check_reply_content(
                self.env._("The keyword reply “%(keyword)s”", keyword=rule.keyword),
                rule.account_id,
                rule.reply_type,
                rule.reply_text,
                rule.material_id,
                rule.article_ids,
                max_articles=MAX_MESSAGE_REPLY_ARTICLES,
                text_required=True,
            )

    @api.constrains("account_id", "active")
    def _check_rule_count(self):
        counts = dict(
            self._read_group(
                [("account_id", "in", self.account_id.ids)], ["account_id"], ["__count"]
            )
        )
        for account, count in counts.items():
            if count > MAX_RULES_PER_ACCOUNT:
                raise ValidationError(
                    self.env._(
                        "The Official Account “%(account)s” would have %(count)s active keyword "
                        "replies, but WeChat allows at most %(max)s. Archive or delete a rule "
                        "first.",
                        account=account.display_name,
                        count=count,
                        max=MAX_RULES_PER_ACCOUNT,
                    )
                )

    @api.depends("reply_type", "account_id")
    def _compute_keyword_index_preview(self):
        for rule in self:
            if rule.reply_type == "keyword_index" and rule.account_id:
                rule.keyword_index_preview = rule.account_id._keyword_index_text()
            else:
                rule.keyword_index_preview = False

    def _compute_hit_count(self):
        # Counted from the message log rather than stored on the rule, because
        # concurrent messages would all wait for the lock on one hot row.
        counts = dict(
            self.env["wechat.message"]
            .sudo()
            ._read_group(
                [("direction", "=", "in"), ("reply_rule_id", "in", self.ids)],
                ["reply_rule_id"],
                ["__count"],
            )
        )
        for rule in self:
            rule.hit_count = counts.get(rule, 0)

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        result = super().write(vals)
        if {"account_id", "keyword", "match_type", "sequence", "active"} & set(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    # ------------------------------------------------------------
    # REPLY CONTENT
    # ------------------------------------------------------------

    @api.model
    def _check_reply_content(
        self, reply, account, reply_type, text, material, articles, max_articles, text_required
    ):
        """Raise ValidationError unless the reply can be sent as configured.

        ``reply`` names the reply in the error message. The keyword rules,
        the welcome reply and the default reply share this check. A text reply
        without text is valid unless ``text_required``, and then sends nothing.
        """
        type_labels = dict(self._fields["reply_type"]._description_selection(self.env))
        type_label = type_labels[reply_type]
        if reply_type == "text":
            if text_required and not (text or "").strip():
                raise ValidationError(
                    self.env._(
                        "%(reply)s has no reply text. Write the text, or choose another "
                        "reply type.",
                        reply=reply,
                    )
                )
        elif reply_type in MEDIA_REPLY_TYPES:
            self._check_reply_material(reply, account, reply_type, type_label, material)
        elif reply_type == "news":
            self._check_reply_articles(reply, account, articles, max_articles)

    @api.model
    def _check_reply_material(self, reply, account, reply_type, type_label, material):
        if not material:
            raise ValidationError(
                self.env._(
                    "%(reply)s has the reply type %(type)s but no material. Choose a material "
                    "of type %(type)s, or change the reply type.",
                    reply=reply,
                    type=type_label,
                )
            )
        if material.media_type != reply_type:
            material_types = dict(material._fields["media_type"]._description_selection(self.env))
            raise ValidationError(
                self.env._(
                    "%(reply)s has the reply type %(type)s, but the material “%(material)s” is "
                    "of type %(material_type)s. Choose a material of type %(type)s, or change "
                    "the reply type.",
                    reply=reply,
                    type=type_label,
                    material=material.name,
                    material_type=material_types[material.media_type],
                )
            )
        if material.account_id != account:
            raise ValidationError(
                self.env._(
                    "%(reply)s cannot send the material “%(material)s”, because it belongs to "
                    "another Official Account, “%(other)s”.",
                    reply=reply,
                    material=material.name,
                    other=material.account_id.name,
                )
            )
        if not material.media_id:
            raise ValidationError(
                self.env._(
                    "%(reply)s cannot send the material “%(material)s”, because it is not "
                    "uploaded to WeChat yet. Upload it first.",
                    reply=reply,
                    material=material.name,
                )
            )
        if not material.active:
            raise ValidationError(
                self.env._(
                    "%(reply)s cannot send the material “%(material)s”, because it was deleted "
                    "on WeChat and is archived. Choose another material.",
                    reply=reply,
                    material=material.name,
                )
            )

    @api.model
    def _check_reply_articles(self, reply, account, articles, max_articles):
        if not articles:
            raise ValidationError(
                self.env._(
                    "%(reply)s has the reply type Articles but no article. Choose a published "
                    "article, or change the reply type.",
                    reply=reply,
                )
            )
        if len(articles) > max_articles:
            raise ValidationError(
                self.env._(
                    "%(reply)s has %(count)s articles, but WeChat shows at most %(max)s in "
                    "this reply. Remove %(extra)s of them.",
                    reply=reply,
                    count=len(articles),
                    max=max_articles,
                    extra=len(articles) - max_articles,
                )
            )
        for article in articles:
            if article.account_id != account:
                raise ValidationError(
                    self.env._(
                        "%(reply)s cannot send the article “%(title)s”, because it belongs to "
                        "another Official Account, “%(other)s”.",
                        reply=reply,
                        title=article.title,
                        other=article.account_id.name,
                    )
                )
            if article.state != "published" or not article.article_url:
                raise ValidationError(
                    self.env._(
                        "%(reply)s cannot send the article “%(title)s”, because it has no "
                        "article link yet. Publish it, then click Fetch Link on the article.",
                        reply=reply,
                        title=article.title,
                    )
                )

    @api.model
    def _build_reply_payload(self, account, reply_type, text, material, articles):
        """Return the reply to send as a dict for ``render_reply``, or None to send nothing.

        Besides WeChat's fields, the dict contains the ``name`` and
        ``material_id`` of a material for the message log.
        """
        if reply_type == "text":
            return {"type": "text", "content": text} if text else None
        if reply_type == "keyword_index":
            return {"type": "text", "content": account._keyword_index_text()}
        if reply_type in MEDIA_REPLY_TYPES:
            if not (material.media_id and material.active):
                # WeChat shows the follower an error for a media ID that does not exist.
                _logger.warning(
                    "WeChat reply of account %s not sent: material %s is no longer on WeChat",
                    account.id,
                    material.id,
                )
                return None
            payload = {
                "type": reply_type,
                "media_id": material.media_id,
                "name": material.name,
                "material_id": material.id,
            }
            if reply_type == "video":
                payload["title"] = material.title or ""
                payload["description"] = material.description or ""
            return payload
        items = [
            {
                "title": article.title,
                "description": article.digest or "",
                "picurl": article.cover_url or "",
                "url": article.article_url,
                "article_id": article.article_id or "",
            }
            for article in articles
            if article.article_url
        ]
        return {"type": "news", "articles": items} if items else None

    def _reply_payload(self):
        self.ensure_one()
        return self._build_reply_payload(
            self.account_id, self.reply_type, self.reply_text, self.material_id, self.article_ids
        )

    # ------------------------------------------------------------
    # MATCHING
    # ------------------------------------------------------------

    @api.model
    @tools.ormcache("account_id")
    def _matching_rules(self, account_id):
        """Return ``(id, match_type, keyword)`` of the account's active rules, in order.

        Cached per worker, because every message of a follower is matched
        against them. Creating, changing or deleting a rule clears the cache.
        """
        rules = self.sudo().search_fetch(
            [("account_id", "=", account_id)], ["match_type", "keyword"], order="sequence, id"
        )
        return tuple((rule.id, rule.match_type, rule.keyword) for rule in rules)

    def _matches(self, content, timeout=REGEX_TIMEOUT):
        """Return whether the message text ``content`` triggers this rule.

        A regular expression that searches longer than ``timeout`` seconds, as
        a badly written pattern can on some texts, counts as no match.
        """
        self.ensure_one()
        return self._keyword_matches(self.match_type, self.keyword, content, timeout)

    def _keyword_matches(self, match_type, keyword, content, timeout):
        """Return whether ``content`` matches ``keyword``; ``self`` is the rule, for logs."""
        if match_type == "regex":
            try:
                return bool(regex.search(keyword, content, timeout=timeout))
            except TimeoutError:
                self._warn_timeout(timeout)
                return False
        text = content.strip().casefold()
        keyword = keyword.strip().casefold()
        if match_type == "exact":
            return text == keyword
        if match_type == "contains":
            return keyword in text
        return text.startswith(keyword)

    def _warn_timeout(self, timeout):
        now = time.monotonic()
        if now - _timeout_warned_at.get(self.id, -TIMEOUT_WARNING_INTERVAL) < (
            TIMEOUT_WARNING_INTERVAL
        ):
            return
        _timeout_warned_at[self.id] = now
        _logger.warning(
            "Regular expression of keyword reply %s (account %s) timed out after %s s and "
            "was skipped; further timeouts of this rule are not logged for %s s",
            self.id,
            self.account_id.id,
            timeout,
            TIMEOUT_WARNING_INTERVAL,
        )
