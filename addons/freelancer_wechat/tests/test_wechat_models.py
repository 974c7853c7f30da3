from contextlib import contextmanager

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestWechatModels(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["wechat.account"].create(
            {
                "name": "Rules Account",
                "app_id": "wxtest000000rules",
                "token": "rulesToken1",
                "app_secret": "s3cr3t-app-secret",
                "api_base_url": "http://127.0.0.1:9/",
            }
        )
        cls.fan_manager = new_test_user(
            cls.env, login="wechat_fan_manager", groups="freelancer_crm.group_fan_manager"
        )

    @contextmanager
    def assert_invalid(self, text):
        """Expect a ValidationError containing ``text``.

        ``assertRaises`` (unlike ``assertRaisesRegex``) runs in a savepoint, so
        the rejected write is undone.
        """
        with self.assertRaises(ValidationError) as catcher:
            yield
        self.assertIn(text, str(catcher.exception))

    def rule_vals(self, keyword, **extra):
        return dict({"account_id": self.account.id, "keyword": keyword, "reply_text": "r"}, **extra)

    def test_rule_limit_200(self):
        Rule = self.env["wechat.reply.rule"]
        Rule.create([self.rule_vals(f"k{index}") for index in range(200)])
        self.assertEqual(self.account.reply_rule_count, 200)

        with self.assert_invalid("at most 200"):
            Rule.create(self.rule_vals("k200"))
        self.assertEqual(Rule.search_count([("account_id", "=", self.account.id)]), 200)

    def test_rule_limit_ignores_archived(self):
        Rule = self.env["wechat.reply.rule"]
        rules = Rule.create([self.rule_vals(f"k{index}") for index in range(200)])
        rules[0].active = False

        extra = Rule.create(self.rule_vals("k200"))
        self.assertTrue(extra.active)
        with self.assert_invalid("at most 200"):
            rules[0].active = True

    def test_invalid_regex_rejected(self):
        Rule = self.env["wechat.reply.rule"]
        with self.assert_invalid("not a valid regular expression"):
            Rule.create(self.rule_vals("课程(", match_type="regex"))
        rule = Rule.create(self.rule_vals("课程(", match_type="contains"))
        with self.assert_invalid("not a valid regular expression"):
            rule.match_type = "regex"

    def test_token_and_aes_key_validated(self):
        with self.assert_invalid("token"):
            self.account.token = "ab"
        with self.assert_invalid("token"):
            self.account.token = "has space 123"
        with self.assert_invalid("43"):
            self.account.encoding_aes_key = "tooShort"
        with self.assert_invalid("missing"):
            self.account.message_mode = "safe"
        self.account.write(
            {
                "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                "message_mode": "safe",
            }
        )
        self.assertEqual(self.account.message_mode, "safe")

    def test_callback_url(self):
        base_url = self.account.get_base_url()
        self.assertEqual(self.account.callback_url, f"{base_url}/wechat/callback/{self.account.id}")

    def test_secrets_hidden_from_non_admin(self):
        account = self.account.with_user(self.fan_manager)
        self.assertEqual(account.name, "Rules Account")
        for field_name in ("app_secret", "token", "encoding_aes_key"):
            with self.subTest(field=field_name), self.assertRaises(AccessError):
                account.read([field_name])
        self.assertNotIn("app_secret", account.fields_get())

    def test_non_admin_mode_change_checked(self):
        account = self.account.with_user(self.fan_manager)
        with self.assert_invalid("missing"):
            account.message_mode = "compatible"

    def test_blank_keyword_rejected(self):
        for keyword in ("   ", "\t"):
            with self.subTest(keyword=keyword), self.assert_invalid("only spaces"):
                self.env["wechat.reply.rule"].create(self.rule_vals(keyword, match_type="contains"))

    def test_rule_changes_reach_matching(self):
        Rule = self.env["wechat.reply.rule"]
        rule = Rule.create(self.rule_vals("课程", match_type="exact", sequence=10))
        self.assertEqual(self.account._match_reply_rule("课程"), rule)

        rule.keyword = "报名"
        self.assertFalse(self.account._match_reply_rule("课程"))
        self.assertEqual(self.account._match_reply_rule("报名"), rule)

        first = Rule.create(self.rule_vals("报", match_type="prefix", sequence=1))
        self.assertEqual(self.account._match_reply_rule("报名"), first)

        first.sequence = 20
        self.assertEqual(self.account._match_reply_rule("报名"), rule)

        rule.active = False
        self.assertEqual(self.account._match_reply_rule("报名"), first)

        first.unlink()
        self.assertFalse(self.account._match_reply_rule("报名"))

    def test_rule_matching(self):
        Rule = self.env["wechat.reply.rule"]
        cases = [
            ("exact", "Hello", " hello ", True),
            ("exact", "Hello", "hello you", False),
            ("contains", "课程", "请问课程时间", True),
            ("contains", "课程", "请问时间", False),
            ("prefix", "报名", "报名陶艺", True),
            ("prefix", "报名", "我要报名", False),
            ("regex", r"\d{11}", "我的手机 13800138000", True),
            ("regex", r"^\d+$", "abc", False),
        ]
        for match_type, keyword, text, expected in cases:
            with self.subTest(match_type=match_type, text=text):
                rule = Rule.new({"keyword": keyword, "match_type": match_type})
                self.assertEqual(rule._matches(text), expected)
