from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from .common import UNSUBSCRIBE_FOOTER, FanMassMailCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanWinback(FanMassMailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now()
        cls.template = cls.env["mailing.mailing"].create(
            {
                "subject": "好久不见",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "body_html": "<p>我们想念你。</p>" + UNSUBSCRIBE_FOOTER,
            }
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "freelancer_mass_mail.winback_template_mailing_id", cls.template.id
        )
        # fan_granted and fan_granted_2 interacted 120 days ago, fan_withdrawn too
        # but without consent; the non-fan customer is never part of win-back.
        old = fields.Datetime.subtract(cls.now, days=120)
        for partner in cls.fan_granted | cls.fan_granted_2 | cls.fan_withdrawn:
            partner._fan_log_interaction("email_open", date=old)
        cls.active_fan = cls.env["res.partner"].create(
            {"name": "活跃粉丝", "email": "active@example.com", "is_fan": True}
        )
        cls.active_fan._fan_record_consent("email", "grant", "manual")
        cls.active_fan._fan_log_interaction("email_click", date=cls.now)

    def _own(self):
        # Demo fans, when the database has them, may be inactive as well.
        return self.fan_granted | self.fan_granted_2 | self.fan_withdrawn | self.active_fan

    def _run_cron(self, at):
        with freeze_time(at):
            return self.env["res.partner"]._cron_fan_email_winback()

    def test_winback_queues_inactive_fans_with_consent(self):
        _sunset, mailing = self._run_cron(self.now)
        self.assertTrue(mailing.fan_is_winback)
        self.assertEqual(mailing.state, "in_queue")
        self.assertEqual(mailing.subject, self.template.subject)
        recipients = self.env["res.partner"].browse(mailing._get_recipients()) & self._own()
        self.assertEqual(recipients, self.fan_granted | self.fan_granted_2)
        self.assertEqual(self.fan_granted.email_winback_mailing_id, mailing)
        # The next run finds nobody new: one win-back per inactivity period.
        _sunset, second = self._run_cron(self.now)
        self.assertFalse(second)

    def test_no_template_no_mailing(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "freelancer_mass_mail.winback_template_mailing_id", 0
        )
        _sunset, mailing = self._run_cron(self.now)
        self.assertFalse(mailing)
        self.assertFalse(self.fan_granted.email_winback_date)

    def test_silent_fans_enter_sunset_and_are_excluded(self):
        self._run_cron(self.now)
        # fan_granted_2 opens the win-back mail; fan_granted stays silent.
        self.fan_granted_2._fan_log_interaction(
            "email_open", date=fields.Datetime.add(self.now, days=2)
        )
        later = fields.Datetime.add(self.now, days=31)
        sunset_ids, _mailing = self._run_cron(later)
        self.assertEqual([i for i in sunset_ids if i in self._own().ids], [self.fan_granted.id])
        self.assertTrue(self.fan_granted.email_sunset_date)
        self.assertFalse(self.fan_granted_2.email_sunset_date)

        mailing = self._create_fan_mailing()
        self.assertEqual(mailing._get_recipients(), [self.fan_granted_2.id])
        self.assertNotIn("fan_granted", mailing.mailing_domain)
        self.assertIn("email_sunset_date", mailing.mailing_domain)

    def test_interaction_lifts_sunset(self):
        self._run_cron(self.now)
        self._run_cron(fields.Datetime.add(self.now, days=31))
        self.assertTrue(self.fan_granted.email_sunset_date)
        self.fan_granted._fan_log_interaction("email_bounce")
        self.assertTrue(self.fan_granted.email_sunset_date, "a bounce is not engagement")
        self.fan_granted._fan_log_interaction("wechat_message")
        self.assertFalse(self.fan_granted.email_sunset_date)
        mailing = self._create_fan_mailing()
        self.assertIn(self.fan_granted.id, mailing._get_recipients())

    def test_sunset_not_deleted(self):
        self._run_cron(self.now)
        self._run_cron(fields.Datetime.add(self.now, days=31))
        self.assertTrue(self.fan_granted.exists())
        self.assertEqual(self.fan_granted.consent_email, "granted")
