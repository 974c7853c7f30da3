import socket
from collections import Counter
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..tools.sms_provider_aliyun import SmsApiAliyun
from ..tools.sms_provider_tencent import SmsApiTencent
from .sms_common import IN_WINDOW, FanSmsProviderCommon

# Long enough after IN_WINDOW for a status check (15 minutes), still in the window.
CHECK_TIME = IN_WINDOW + timedelta(minutes=20)
NUMBERS = ("+8613800138001", "+8613800138002")

# A PostgreSQL trigger that makes the write of the provider's response fail: the
# transaction that sent the request then rolls back, as after a crash or a
# serialization failure. It is created and dropped inside the test's
# transaction, so it never outlives the test.
CRASH_AFTER_REQUEST = """
    CREATE FUNCTION test_fan_sms_crash() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'simulated crash after the provider request';
    END $$;
    CREATE TRIGGER test_fan_sms_crash BEFORE UPDATE ON sms_sms FOR EACH ROW
    WHEN (NEW.fan_sms_attempt_state = 'accepted'
          AND OLD.fan_sms_attempt_state IS DISTINCT FROM 'accepted')
    EXECUTE FUNCTION test_fan_sms_crash();
"""
REMOVE_CRASH = """
    DROP TRIGGER test_fan_sms_crash ON sms_sms;
    DROP FUNCTION test_fan_sms_crash();
"""


def closed_port_url():
    """Return the URL of a port on 127.0.0.1 where nothing listens, so connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class SmsOutcomeCommon(FanSmsProviderCommon):
    def _received_per_number(self):
        return Counter(self.provider_number(r["number"]) for r in self.server.received)

    def provider_number(self, number):
        """Return ``number`` in E.164, as the SMS store it."""
        return number if number.startswith("+") else f"+86{number}"

    def _send_directly_mailing(self):
        """Send a new fan SMS mailing with Send Directly, inside the window, to both numbers.

        Returns the mailing and its SMS.
        """
        self.fan_granted_2._fan_record_consent("sms", "grant", "web_form", address=NUMBERS[1])
        mailing = self._create_fan_mailing(
            mailing_type="sms",
            body_plaintext="周六开课",
            fan_sms_signature="手作小院",
            sms_force_send=True,
        )
        with freeze_time(IN_WINDOW):
            mailing.action_send_sms()
        return mailing, self.env["sms.sms"].search([("mailing_id", "=", mailing.id)])

    def _run_sms_queue_with_crash(self):
        """Run the SMS queue cron once with a failure after the provider responded."""
        self.env.cr.execute(CRASH_AFTER_REQUEST)
        with (
            mute_logger("odoo.sql_db"),
            self.assertLogs("odoo.addons.base.models.ir_cron", "ERROR") as logs,
        ):
            self._run_sms_queue()
        self.assertIn("simulated crash after the provider request", "\n".join(logs.output))
        self.env.cr.execute(REMOVE_CRASH)

    def _unreachable_provider(self):
        """Point the company to a closed port: requests fail without reaching the fake server."""
        self.env.company.fan_sms_endpoint = closed_port_url()

    def _reachable_provider(self):
        self.env.company.fan_sms_endpoint = self.server.url


class SendOnceCases:
    """An SMS is sent once on every path, whatever happens after its request."""

    def test_send_directly_crash_sends_once(self):
        mailing, sms = self._send_directly_mailing()
        self.assertEqual(sorted(sms.mapped("number")), list(NUMBERS))
        self.assertEqual(set(sms.mapped("state")), {"outgoing"})
        self.assertEqual(self.server.received, [], "Send Directly leaves the SMS to the cron")

        self._run_sms_queue_with_crash()
        self.assertEqual(self._received_per_number(), Counter(NUMBERS))
        self.assertEqual(set(sms.mapped("state")), {"process"})
        self.assertEqual(set(sms.mapped("fan_sms_attempt_state")), {"requested"})
        self.assertEqual(set(sms.mapped("fan_sms_requested_at")), {IN_WINDOW})

        # The queue runs again and a user retries in every way offered, but no request leaves.
        self._run_sms_queue()
        self.assertEqual(self._received_per_number(), Counter(NUMBERS))
        notification = sms.resend_failed()
        self.assertEqual(notification["params"]["type"], "warning")
        with self.assertRaises(UserError):
            sms.action_set_outgoing()
        with freeze_time(IN_WINDOW):
            mailing.action_retry_failed()
            self._run_cron("mass_mailing.ir_cron_mass_mailing_queue", IN_WINDOW)
        self._run_sms_queue()
        self.assertEqual(self._received_per_number(), Counter(NUMBERS))
        self.assertEqual(
            self.env["sms.sms"].search_count([("mailing_id", "=", mailing.id)]),
            2,
            "the retry created no new SMS for these recipients",
        )
        self.assertEqual(mailing.fan_sms_unknown_count, 2)

        # The provider's records settle them.
        with freeze_time(CHECK_TIME):
            mailing.action_fan_check_sms_status()
        self.assertEqual(set(sms.mapped("state")), {"sent"})
        self.assertEqual(set(sms.mapped("fan_sms_attempt_state")), {"accepted"})
        self.assertEqual(set(sms.mapped("mailing_trace_ids.trace_status")), {"sent"})
        mailing.invalidate_recordset(["fan_sms_unknown_count"])
        self.assertEqual(mailing.fan_sms_unknown_count, 0)
        self.assertEqual(self._received_per_number(), Counter(NUMBERS))

    def test_send_call_rolled_back_sends_once(self):
        sms = self.env["sms.sms"].create(
            [{"number": number, "body": "验证码 1234"} for number in NUMBERS]
        )
        with self.env.cr.savepoint() as savepoint:
            with freeze_time(IN_WINDOW):
                sms.send()
            self.env.flush_all()
            savepoint.rollback()
        self.assertEqual(self.server.received, [], "send() made no request in the transaction")
        sms.invalidate_recordset()
        self.assertEqual(set(sms.mapped("state")), {"outgoing"})

        self._run_sms_queue()
        self.assertEqual(self._received_per_number(), Counter(NUMBERS))
        self.assertEqual(set(sms.mapped("state")), {"pending"})

    def test_retry_rejected_sends_once(self):
        sms = self._queue_mailing_sms()
        self.server.mode = "error"
        self._send_at(sms)
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.fan_sms_attempt_state, "rejected")
        self.assertEqual(self.server.received, [])

        self.server.mode = "ok"
        with freeze_time(IN_WINDOW):
            sms.resend_failed()
        self._run_sms_queue_with_crash()
        self._run_sms_queue()
        with freeze_time(IN_WINDOW):
            sms.resend_failed()
        self._run_sms_queue()
        self.assertEqual(self._received_per_number(), Counter([NUMBERS[0]]))
        self.assertEqual(sms.fan_sms_attempt_state, "requested")

    def test_test_sms_wizard_sends_once(self):
        mailing = self._create_fan_mailing(
            mailing_type="sms", body_plaintext="测试短信", fan_sms_signature="手作小院"
        )
        wizard = self.env["mailing.sms.test"].create(
            {"mailing_id": mailing.id, "numbers": NUMBERS[0]}
        )
        with freeze_time(IN_WINDOW):
            wizard.action_send_sms()
        self.assertEqual(self._received_per_number(), Counter([NUMBERS[0]]))
        test_sms = self.env["sms.sms"].search([("number", "=", NUMBERS[0])])
        self.assertEqual(test_sms.mapped("state"), ["process"])
        self.assertTrue(test_sms.to_delete)

        self._run_sms_queue()
        self.assertEqual(self._received_per_number(), Counter([NUMBERS[0]]))


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsSendOnceAliyun(SendOnceCases, SmsOutcomeCommon):
    provider = "aliyun"


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsSendOnceTencent(SendOnceCases, SmsOutcomeCommon):
    provider = "tencent"


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsOutcomeAliyun(SmsOutcomeCommon):
    provider = "aliyun"

    def test_timeout_then_status_delivered(self):
        sms = self._queue_mailing_sms()
        self.server.mode = "timeout"
        self.server.delay = 10.5  # tests raise any request timeout under 10 s to 10 s
        with patch.object(SmsApiAliyun, "TIMEOUT", 0.3):
            self._send_at(sms)
        self.server.mode = "ok"
        self.assertEqual(sms.fan_sms_attempt_state, "unknown")
        self.assertEqual(sms.failure_type, "fan_sms_outcome_unknown")

        with freeze_time(IN_WINDOW + timedelta(minutes=5)):
            sms.action_fan_check_status()
        self.assertEqual(self.server.queries, [], "too recent to be checked")
        self.assertEqual(sms.fan_sms_attempt_state, "unknown")

        with freeze_time(CHECK_TIME):
            sms.action_fan_check_status()
        self.assertEqual(self.server.queries, ["13800138001"])
        self.assertEqual(sms.state, "sent")
        self.assertFalse(sms.failure_type)
        self.assertEqual(sms.fan_sms_attempt_state, "accepted")
        self.assertEqual(sms.fan_sms_status_checked_at, CHECK_TIME)
        trace = sms.sms_tracker_id.mailing_trace_id
        self.assertEqual(trace.trace_status, "sent")
        self.assertEqual(len(self.server.received), 1)

    def test_no_provider_record_not_sent(self):
        sms = self._queue_mailing_sms()
        self._unreachable_provider()
        self._send_at(sms)
        self.assertEqual(sms.fan_sms_attempt_state, "unknown")
        self.assertEqual(self.server.received, [])

        self._reachable_provider()
        with freeze_time(CHECK_TIME):
            sms.action_fan_check_status()
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "fan_sms_not_sent")
        self.assertEqual(sms.fan_sms_attempt_state, "not_sent")

        with freeze_time(CHECK_TIME):
            sms.resend_failed()
        self._run_sms_queue(CHECK_TIME)
        self.assertEqual(self._received_per_number(), Counter([NUMBERS[0]]))
        self.assertEqual(sms.state, "pending")

    def test_status_not_delivered_and_waiting(self):
        self.server.report_status = {"13800138001": "failed", "13800138002": "waiting"}
        _mailing, sms = self._send_directly_mailing()
        self._run_sms_queue_with_crash()
        with freeze_time(CHECK_TIME):
            sms.action_fan_check_status()
        failed = sms.filtered(lambda s: s.number == NUMBERS[0])
        waiting = sms - failed
        self.assertEqual(failed.state, "error")
        self.assertEqual(failed.failure_type, "sms_not_delivered")
        self.assertEqual(failed.fan_sms_attempt_state, "undelivered")
        failed_trace = failed.mailing_trace_ids
        self.assertEqual(failed_trace.trace_status, "error")
        self.assertEqual(failed_trace.failure_type, "sms_not_delivered")
        self.assertIn("MK:0001", failed_trace.failure_reason)
        self.assertEqual(waiting.state, "pending")
        self.assertEqual(waiting.mailing_trace_ids.trace_status, "pending")

    def test_cron_checks_hourly(self):
        cron = "freelancer_mass_mail.ir_cron_fan_sms_check_status"
        _mailing, sms = self._send_directly_mailing()
        self._run_sms_queue_with_crash()

        self._run_cron(cron, IN_WINDOW)
        self.assertEqual(self.server.queries, [], "requests of the last 15 minutes wait")
        self.assertFalse(any(sms.mapped("fan_sms_status_checked_at")))

        # The queries fail: the SMS stay unknown and wait an hour for the next check.
        self._unreachable_provider()
        self._run_cron(cron, CHECK_TIME)
        self._reachable_provider()
        self.assertEqual(set(sms.mapped("fan_sms_attempt_state")), {"requested"})
        self.assertEqual(set(sms.mapped("fan_sms_status_checked_at")), {CHECK_TIME})
        self._run_cron(cron, CHECK_TIME + timedelta(minutes=30))
        self.assertEqual(self.server.queries, [])

        # One number's record is gone at the provider: that SMS was not sent.
        self.server.received = [r for r in self.server.received if r["number"] != "13800138002"]
        self._run_cron(cron, CHECK_TIME + timedelta(minutes=61))
        self.assertEqual(sorted(self.server.queries), ["13800138001", "13800138002"])
        first = sms.filtered(lambda s: s.number == NUMBERS[0])
        second = sms - first
        self.assertEqual(first.state, "sent")
        self.assertEqual(second.state, "error")
        self.assertEqual(second.fan_sms_attempt_state, "not_sent")

        self._run_cron(cron, CHECK_TIME + timedelta(hours=3))
        self.assertEqual(len(self.server.queries), 2, "settled SMS are not queried again")

    def test_mark_sent_and_not_sent(self):
        _mailing, sms = self._send_directly_mailing()
        self._unreachable_provider()
        self._run_sms_queue()
        self._reachable_provider()
        self.assertEqual(set(sms.mapped("fan_sms_attempt_state")), {"unknown"})
        first = sms.filtered(lambda s: s.number == NUMBERS[0])
        second = sms - first

        first.action_fan_mark_sent()
        self.assertEqual(first.state, "pending")
        self.assertEqual(first.fan_sms_attempt_state, "accepted")
        self.assertEqual(first.mailing_trace_ids.trace_status, "pending")
        with self.assertRaises(UserError):
            first.action_fan_mark_not_sent()

        second.action_fan_mark_not_sent()
        self.assertEqual(second.state, "outgoing")
        self.assertEqual(second.fan_sms_attempt_state, "not_sent")
        self.assertEqual(second.mailing_trace_ids.trace_status, "outgoing")

        # Marking as not sent allows one more request only: when its outcome
        # is unknown again, the SMS is blocked again.
        self._unreachable_provider()
        self._run_sms_queue()
        self._reachable_provider()
        self.assertEqual(second.fan_sms_attempt_state, "unknown")
        self._run_sms_queue()
        self.assertEqual(self.server.received, [])

        second.action_fan_mark_not_sent()
        self._run_sms_queue()
        self.assertEqual(self._received_per_number(), Counter([NUMBERS[1]]))
        self.assertEqual(second.state, "pending")


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestSmsOutcomeTencent(SmsOutcomeCommon):
    provider = "tencent"

    def test_timeout_report_matched_by_number(self):
        sms = self._queue_mailing_sms()
        self.server.mode = "timeout"
        self.server.delay = 10.5  # tests raise any request timeout under 10 s to 10 s
        with patch.object(SmsApiTencent, "TIMEOUT", 0.3):
            self._send_at(sms)
        self.server.mode = "ok"
        self.assertEqual(sms.fan_sms_attempt_state, "unknown")
        self.assertFalse(sms.fan_sms_provider_ref)

        with freeze_time(CHECK_TIME):
            sms.action_fan_check_status()
        self.assertEqual(self.server.queries, [NUMBERS[0]])
        self.assertEqual(sms.state, "sent")
        self.assertEqual(sms.fan_sms_provider_ref, self.server.received[0]["serial_no"])
        self.assertEqual(sms.sms_tracker_id.fan_sms_provider_ref, sms.fan_sms_provider_ref)
        self.assertEqual(sms.sms_tracker_id.mailing_trace_id.trace_status, "sent")

    def test_other_sms_report_not_taken(self):
        # A first SMS to the number is sent normally, and a second one never reaches Tencent.
        sent = self._queue_mailing_sms("第一条")
        self._send_at(sent)
        self.assertEqual(sent.state, "pending")
        lost = self._queue_mailing_sms("第二条")
        self._unreachable_provider()
        self._send_at(lost)
        self._reachable_provider()
        self.assertEqual(lost.fan_sms_attempt_state, "unknown")

        with freeze_time(CHECK_TIME):
            lost.action_fan_check_status()
        self.assertEqual(self.server.queries, [NUMBERS[0]])
        self.assertEqual(lost.fan_sms_attempt_state, "unknown", "no report can prove it unsent")
        self.assertEqual(lost.state, "error")
        self.assertEqual(lost.fan_sms_status_checked_at, CHECK_TIME)

    def test_failed_report(self):
        self.server.report_status = {NUMBERS[1]: "failed"}
        _mailing, sms = self._send_directly_mailing()
        self._run_sms_queue_with_crash()
        with freeze_time(CHECK_TIME):
            sms.action_fan_check_status()
        self.assertEqual(sorted(self.server.queries), list(NUMBERS))
        delivered = sms.filtered(lambda s: s.number == NUMBERS[0])
        failed = sms - delivered
        self.assertEqual(delivered.state, "sent")
        self.assertEqual(failed.state, "error")
        self.assertEqual(failed.failure_type, "sms_not_delivered")
        self.assertEqual(failed.mailing_trace_ids.failure_reason, "UNDELIV")
        serials = {r["number"]: r["serial_no"] for r in self.server.received}
        self.assertEqual(delivered.fan_sms_provider_ref, serials[NUMBERS[0]])
        self.assertEqual(failed.fan_sms_provider_ref, serials[NUMBERS[1]])

    def test_reports_older_than_week_skipped(self):
        _mailing, sms = self._send_directly_mailing()
        self._run_sms_queue_with_crash()
        with freeze_time(datetime(2025, 5, 9, 2)):
            sms.action_fan_check_status()
        self.assertEqual(self.server.queries, [])
        self.assertEqual(set(sms.mapped("fan_sms_attempt_state")), {"requested"})
