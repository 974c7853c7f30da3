from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import UNSUBSCRIBE_FOOTER, FanMassMailCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanChecklist(FanMassMailCommon):
    def _codes(self, mailing, level):
        return {c["code"] for c in mailing._fan_get_checklist() if c["level"] == level}

    def test_clean_mailing_passes(self):
        mailing = self._create_fan_mailing()
        self.assertFalse(mailing._fan_get_checklist())
        self.assertEqual(mailing.fan_checklist_error_count, 0)
        mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "in_queue")

    def test_missing_unsubscribe_blocks(self):
        mailing = self._create_fan_mailing(body_html="<p>你好</p>", body_arch="<p>你好</p>")
        self.assertIn("no_unsubscribe", self._codes(mailing, "error"))
        self.assertEqual(mailing.fan_checklist_error_count, 1)
        with self.assertRaises(UserError):
            mailing.action_launch()
        self.assertEqual(mailing.state, "draft")

    def test_no_consenting_recipient_blocks(self):
        segment = self.env["fan.segment"].create(
            {"name": "Nobody", "extra_domain": "[('email', '=', 'chenli@example.com')]"}
        )
        mailing = self._create_fan_mailing(fan_segment_id=segment.id)
        self.assertIn("no_consent", self._codes(mailing, "error"))
        with self.assertRaises(UserError):
            mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "draft")

    def test_whitespace_subject_blocks(self):
        mailing = self._create_fan_mailing(subject="   ")
        self.assertIn("empty_subject", self._codes(mailing, "error"))

    def test_email_warnings(self):
        body = (
            "<p>免费 click here</p>"
            + "".join(f'<a href="https://example.com/{i}">x</a>' for i in range(25))
            + '<img src="https://example.com/a.png"/>'
            + "<p>"
            + "长" * 110000
            + "</p>"
            + UNSUBSCRIBE_FOOTER
        )
        mailing = self._create_fan_mailing(subject="超" * 60, body_html=body, body_arch=body)
        warnings = self._codes(mailing, "warning")
        self.assertEqual(
            warnings, {"long_subject", "large_body", "many_links", "image_no_alt", "spam_words"}
        )
        self.assertEqual(self._codes(mailing, "error"), set())
        self.assertEqual(mailing.fan_checklist_warning_count, 5)
        # Warnings do not block sending.
        mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "in_queue")

    def test_image_only_warning(self):
        body = '<p><img src="https://example.com/poster.png" alt="海报"/></p>' + UNSUBSCRIBE_FOOTER
        mailing = self._create_fan_mailing(body_html=body, body_arch=body)
        self.assertEqual(self._codes(mailing, "warning"), {"image_only"})

    def test_thresholds_from_parameters(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "freelancer_mass_mail.subject_max_chars", "5"
        )
        mailing = self._create_fan_mailing(subject="秋季手作课程上线")
        self.assertEqual(self._codes(mailing, "warning"), {"long_subject"})

    def test_sms_errors(self):
        mailing = self._create_fan_mailing(
            mailing_type="sms",
            body_plaintext="【别家】秋季课程",
            fan_sms_signature="",
            fan_sms_refusal_text="",
        )
        self.assertEqual(
            self._codes(mailing, "error"), {"sms_signature", "sms_brackets", "sms_refusal"}
        )
        with self.assertRaises(UserError):
            mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "draft")

    def test_plain_mailing_not_blocked(self):
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Plain",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "=", self.customer_not_fan.id)]),
                "body_html": "<p>Hi</p>",
            }
        )
        self.assertIn("no_unsubscribe", self._codes(mailing, "error"))
        mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "in_queue")

    def test_unsubscribe_link_must_be_real(self):
        base_url = self.env["mailing.mailing"].get_base_url()
        missing = [
            "<p>Go to /unsubscribe_from_list to leave.</p>",
            '<p data-href="/unsubscribe_from_list">退订</p>',
            '<p><a href="/unsubscribe_from_list_old">退订</a></p>',
            '<p><a href="https://other.example.com/unsubscribe_from_list">退订</a></p>',
            '<p><a href="/mailing/1/unsubscribe">退订</a></p>',
            '<p><a href="/unsubscribe_from_list"></a></p>',
            '<p style="display:none"><a href="/unsubscribe_from_list">退订</a></p>',
            '<p><a style="color:#888; DISPLAY: none" href="/unsubscribe_from_list">退订</a></p>',
            '<div style="visibility: hidden"><a href="/unsubscribe_from_list">退订</a></div>',
            '<div style="mso-hide:all"><a href="/unsubscribe_from_list">退订</a></div>',
            '<p hidden=""><a href="/unsubscribe_from_list">退订</a></p>',
            '<p class="small d-none"><a href="/unsubscribe_from_list">退订</a></p>',
            "<!-- <a href='/unsubscribe_from_list'>退订</a> -->",
        ]
        for footer in missing:
            with self.subTest(footer=footer):
                body = "<p>秋季课程开放报名。</p>" + footer
                mailing = self._create_fan_mailing(body_html=body, body_arch=body)
                self.assertIn("no_unsubscribe", self._codes(mailing, "error"))
        present = [
            UNSUBSCRIBE_FOOTER,
            f'<p><a href="{base_url}/unsubscribe_from_list">退订</a></p>',
            '<p><a href=" /unsubscribe_from_list ">退订</a></p>',
            '<p style="display:block"><a href="/unsubscribe_from_list"><img src="/x.png"/></a></p>',
            '<p class="display-none-hint"><a href="/unsubscribe_from_list">退订</a></p>',
        ]
        for footer in present:
            with self.subTest(footer=footer):
                body = "<p>秋季课程开放报名。</p>" + footer
                mailing = self._create_fan_mailing(body_html=body, body_arch=body)
                self.assertNotIn("no_unsubscribe", self._codes(mailing, "error"))
