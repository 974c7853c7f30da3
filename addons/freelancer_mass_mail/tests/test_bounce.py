import email
from email.message import EmailMessage

from odoo.tests import tagged

from ..tools import classify_bounce, extract_dsn_status
from .common import FanMassMailCommon


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanBounce(FanMassMailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailing = cls._create_fan_mailing()
        # One call per fan, because the helper gives all traces of a call one Message-ID.
        cls._create_sent_traces(cls.mailing, cls.fan_granted)
        cls._create_sent_traces(cls.mailing, cls.fan_granted_2)

    def _ledger(self, partner, source):
        return self.env["fan.consent"].search(
            [("partner_id", "=", partner.id), ("channel", "=", "email"), ("source", "=", source)]
        )

    def _interactions(self, partner, interaction_type):
        return self.env["fan.interaction"].search(
            [("partner_id", "=", partner.id), ("interaction_type", "=", interaction_type)]
        )

    def test_classify_status_codes(self):
        self.assertEqual(classify_bounce(status="5.1.1"), ("hard", "5.1.1"))
        self.assertEqual(classify_bounce(status="4.2.2"), ("soft", "4.2.2"))
        self.assertEqual(classify_bounce(text="550 5.7.1 rejected"), ("hard", "5.7.1"))
        self.assertEqual(classify_bounce(text="mailbox full 4.2.2"), ("soft", "4.2.2"))
        self.assertEqual(classify_bounce(text="no code here"), ("soft", False))
        self.assertEqual(classify_bounce(text="IP 10.5.1.1 blocked"), ("soft", False))

    def test_extract_dsn_status(self):
        raw = (
            "Content-Type: multipart/report; report-type=delivery-status; boundary=XX\n"
            "MIME-Version: 1.0\n\n--XX\nContent-Type: text/plain\n\nDelivery failed.\n--XX\n"
            "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
            "Final-Recipient: rfc822; wenjing@example.com\nAction: failed\nStatus: 5.1.1\n"
            "\n--XX--\n"
        )
        report = email.message_from_string(raw, _class=EmailMessage)
        self.assertEqual(extract_dsn_status(report), "5.1.1")
        plain = email.message_from_string("Subject: hi\n\nhello", _class=EmailMessage)
        self.assertIsNone(extract_dsn_status(plain))

    def test_hard_bounce_withdraws_consent(self):
        bounce = {"body": "550 5.1.1 <wenjing@example.com>: no such user"}
        trace = self.gateway_mail_trace_bounce(self.mailing, self.fan_granted, bounce)
        self.assertEqual(trace.trace_status, "bounce")
        self.assertEqual(trace.fan_bounce_type, "hard")
        self.assertEqual(trace.fan_bounce_status, "5.1.1")
        self.assertEqual(self.fan_granted.consent_email, "withdrawn")
        entry = self._ledger(self.fan_granted, "bounce")
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.action, "withdraw")
        self.assertEqual(entry.res_model, "mailing.trace")
        self.assertEqual(entry.res_id, trace.id)
        self.assertEqual(len(self._interactions(self.fan_granted, "email_bounce")), 1)
        self.assertEqual(self.fan_granted_2.consent_email, "granted")

    def test_dsn_status_from_routing_context(self):
        trace = self.mailing.mailing_trace_ids.filtered(lambda t: t.res_id == self.fan_granted.id)
        trace.with_context(fan_bounce_status="5.2.1").set_bounced(bounce_message="no code")
        self.assertEqual(trace.fan_bounce_type, "hard")
        self.assertEqual(self.fan_granted.consent_email, "withdrawn")

    def test_single_soft_bounce_keeps_consent(self):
        trace = self.gateway_mail_trace_bounce(
            self.mailing, self.fan_granted, {"body": "452 4.2.2 mailbox full"}
        )
        self.assertEqual(trace.fan_bounce_type, "soft")
        self.assertEqual(self.fan_granted.consent_email, "granted")
        self.assertFalse(self._ledger(self.fan_granted, "bounce"))
        self.assertEqual(len(self._interactions(self.fan_granted, "email_bounce")), 1)

    def test_repeated_soft_bounces_withdraw(self):
        other_mailings = self._create_fan_mailing() | self._create_fan_mailing()
        for mailing in self.mailing | other_mailings:
            if mailing != self.mailing:
                self._create_sent_traces(mailing, self.fan_granted)
            self.gateway_mail_trace_bounce(
                mailing, self.fan_granted, {"body": "452 4.2.2 mailbox full"}
            )
        self.assertEqual(self.fan_granted.consent_email, "withdrawn")
        self.assertEqual(len(self._ledger(self.fan_granted, "bounce")), 1)
        self.assertEqual(len(self._interactions(self.fan_granted, "email_bounce")), 3)

    def test_open_click_reply_logged(self):
        trace = self.gateway_mail_trace_open(self.mailing, self.fan_granted)
        trace.set_opened()
        self.assertEqual(len(self._interactions(self.fan_granted, "email_open")), 1)
        trace.set_clicked()
        self.assertEqual(len(self._interactions(self.fan_granted, "email_click")), 1)
        self.gateway_mail_trace_reply(self.mailing, self.fan_granted)
        replies = self._interactions(self.fan_granted, "email_reply")
        self.assertEqual(len(replies), 1)
        self.assertEqual(replies.res_model, "mailing.mailing")
        self.assertEqual(replies.res_id, self.mailing.id)
        self.assertFalse(self._interactions(self.fan_granted_2, "email_open"))
