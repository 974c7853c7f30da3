import time

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..models.wechat_account import REGEX_BUDGET_SECONDS
from ..models.wechat_reply_rule import MAX_REGEX_LENGTH, REGEX_TIMEOUT

# Exponential backtracking: each extra "a" doubles the ways to split the text.
CATASTROPHIC_PATTERN = r"(a|aa)+$"
CATASTROPHIC_TEXT = "a" * 40 + "!"


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestRegexGuard(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["wechat.account"].create(
            {
                "name": "Regex Account",
                "app_id": "wxtest000000regex",
                "api_base_url": "http://127.0.0.1:9/",
            }
        )
        cls.Rule = cls.env["wechat.reply.rule"]

    def rule(self, keyword, match_type="regex", **extra):
        return self.Rule.create(
            dict(
                {
                    "account_id": self.account.id,
                    "keyword": keyword,
                    "match_type": match_type,
                    "reply_text": keyword,
                },
                **extra,
            )
        )

    def test_regex_length_limited(self):
        self.rule("a" * MAX_REGEX_LENGTH)
        with self.assertRaises(ValidationError) as catcher:
            self.rule("b" * (MAX_REGEX_LENGTH + 1))
        self.assertIn(f"at most {MAX_REGEX_LENGTH}", str(catcher.exception))
        # The limit applies to regular expressions only.
        self.rule("c" * (MAX_REGEX_LENGTH + 1), match_type="contains")

    def test_timeout_counts_as_no_match(self):
        rule = self.rule(CATASTROPHIC_PATTERN)
        started = time.monotonic()
        matched = rule._matches(CATASTROPHIC_TEXT)
        elapsed = time.monotonic() - started

        self.assertFalse(matched)
        self.assertLess(elapsed, REGEX_TIMEOUT + 0.5)
        self.assertTrue(rule._matches("aaaa"), "the same pattern matches a short text")

    def test_budget_shared_by_regex_rules(self):
        slow = self.Rule.browse()
        for index in range(15):
            slow |= self.rule(CATASTROPHIC_PATTERN, sequence=index)
        fallback = self.rule("aaa", match_type="contains", sequence=100)
        started = time.monotonic()
        matched = self.account._match_reply_rule(CATASTROPHIC_TEXT)
        elapsed = time.monotonic() - started

        self.assertEqual(matched, fallback, "rules after the spent budget are still checked")
        self.assertEqual(len(slow), 15)
        # 15 rules of 0.1 s would take 1.5 s without the shared budget.
        self.assertLess(elapsed, REGEX_BUDGET_SECONDS + 0.5)
