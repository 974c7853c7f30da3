import logging
import time

import regex

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.sql_db import Cursor

_logger = logging.getLogger(__name__)

# The WeChat back office allows at most 200 keyword reply rules per account.
MAX_RULES_PER_ACCOUNT = 200
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
    reply_text = fields.Text(string="Reply", required=True)
    active = fields.Boolean(default=True)
    hit_count = fields.Integer(
        string="Hits", readonly=True, copy=False, help="Number of messages this rule replied to."
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

    def _matches(self, content, timeout=REGEX_TIMEOUT):
        """Return whether the message text ``content`` triggers this rule.

        A regular expression that searches longer than ``timeout`` seconds, as
        a badly written pattern can on some texts, counts as no match.
        """
        self.ensure_one()
        if self.match_type == "regex":
            try:
                return bool(regex.search(self.keyword, content, timeout=timeout))
            except TimeoutError:
                self._warn_timeout(timeout)
                return False
        text = content.strip().casefold()
        keyword = self.keyword.strip().casefold()
        if self.match_type == "exact":
            return text == keyword
        if self.match_type == "contains":
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

    def _increment_hit_count(self):
        """Add one hit to the rules, in a separate READ COMMITTED transaction.

        Under Odoo's REPEATABLE READ, two messages matching the same rule at
        once made the second UPDATE fail with a serialization error, so the
        whole callback was retried. In READ COMMITTED the second UPDATE waits
        for the first and adds to its result.
        """
        # NOTE: the hit stays counted if the callback's own transaction fails
        # afterwards; WeChat's retry of that message then counts it again.
        with self.env.registry.cursor() as cr:
            if isinstance(cr, Cursor):
                # Test cursors share the test transaction, where this is not allowed.
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute(
                """
                UPDATE wechat_reply_rule
                   SET hit_count = COALESCE(hit_count, 0) + 1
                 WHERE id = ANY(%s)
                """,
                [self.ids],
            )
        self.invalidate_recordset(["hit_count"])
