from odoo.tests import tagged, users

from .common import FanMassMailCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanRecipients(FanMassMailCommon):
    def test_segment_sets_partner_model(self):
        mailing = self._create_fan_mailing()
        self.assertEqual(mailing.mailing_model_real, "res.partner")
        self.assertIn("consent_email", mailing.mailing_domain)
        self.assertIn("is_fan", mailing.mailing_domain)

    def test_recipients_have_email_consent(self):
        mailing = self._create_fan_mailing()
        recipients = self.env["res.partner"].browse(mailing._get_recipients())
        self.assertEqual(recipients, self.fan_granted | self.fan_granted_2)
        self.assertEqual(mailing.total, 2)

    def test_withdrawal_after_creation_excluded(self):
        mailing = self._create_fan_mailing()
        self.assertIn(self.fan_granted_2.id, mailing._get_recipients())
        self.fan_granted_2._fan_record_consent("email", "withdraw", "manual")
        self.env.flush_all()
        self.assertEqual(mailing._get_recipients(), [self.fan_granted.id])

    def test_sms_recipients_have_sms_consent(self):
        mailing = self._create_fan_mailing(
            mailing_type="sms", body_plaintext="秋季课程开放报名", fan_sms_signature="手作小院"
        )
        self.assertEqual(mailing._get_recipients(), [self.fan_granted.id])

    @users("user_marketing")
    def test_send_keeps_targeted_members(self):
        mailing = self._create_fan_mailing()
        with self.mock_mail_gateway(mail_unlink_sent=False):
            mailing.action_send_mail()
        traces = mailing.mailing_trace_ids
        self.assertEqual(set(traces.mapped("res_id")), {self.fan_granted.id, self.fan_granted_2.id})
        self.assertEqual(set(traces.mapped("model")), {"res.partner"})
        self.assertEqual(mailing.fan_targeted_count, 2)
        action = mailing.action_view_fan_recipients()
        self.assertEqual(
            self.env["res.partner"].search(action["domain"]), self.fan_granted | self.fan_granted_2
        )
        self.assertEqual(mailing.state, "done")

    def test_mailing_without_segment_unchanged(self):
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Plain",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "=", self.customer_not_fan.id)]),
                "body_html": "<p>Hi</p>",
            }
        )
        self.assertEqual(mailing._get_recipients(), [self.customer_not_fan.id])
