import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.sql_db import Cursor

# The WeChat back office allows at most 200 keyword reply rules per account.
MAX_RULES_PER_ACCOUNT = 200


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
        "searched anywhere in the text (Python syntax).",
    )
    reply_text = fields.Text(string="Reply", required=True)
    active = fields.Boolean(default=True)
    hit_count = fields.Integer(
        string="Hits", readonly=True, copy=False, help="Number of messages this rule replied to."
    )

    @api.constrains("keyword", "match_type")
    def _check_regex(self):
        for rule in self.filtered(lambda r: r.match_type == "regex"):
            try:
                re.compile(rule.keyword)
            except re.error as error:
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

    def _matches(self, content):
        """Return whether the message text ``content`` triggers this rule."""
        self.ensure_one()
        if self.match_type == "regex":
            # NOTE: Python's re module has no timeout, so a badly written pattern
            # can be slow on long messages. Only Fan Managers can edit rules.
            return bool(re.search(self.keyword, content))
        text = content.strip().casefold()
        keyword = self.keyword.strip().casefold()
        if self.match_type == "exact":
            return text == keyword
        if self.match_type == "contains":
            return keyword in text
        return text.startswith(keyword)

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
