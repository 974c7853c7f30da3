import datetime

from freezegun import freeze_time

from odoo.tests import BaseCase, tagged

from ..tools.send_time import next_hour_start
from .common import UNSUBSCRIBE_FOOTER, FanMassMailCommon

SHANGHAI = "Asia/Shanghai"
# 09:30 in Shanghai (UTC+8).
T0 = datetime.datetime(2026, 3, 2, 1, 30)


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestNextHourStart(BaseCase):
    def test_cases(self):
        cases = [
            (T0, 20, datetime.datetime(2026, 3, 2, 12, 0)),  # 20:00 the same day
            (T0, 8, datetime.datetime(2026, 3, 3, 0, 0)),  # 08:00 the next day
            (T0, 9, T0),  # within the hour: at once
            (T0, 10, datetime.datetime(2026, 3, 2, 2, 0)),
            (datetime.datetime(2026, 3, 1, 23, 30), 7, datetime.datetime(2026, 3, 1, 23, 30)),
            (datetime.datetime(2026, 3, 1, 23, 30), 0, datetime.datetime(2026, 3, 2, 16, 0)),
        ]
        for start, hour, expected in cases:
            result = next_hour_start(start, hour, SHANGHAI)
            self.assertEqual(result, expected, f"{start} hour {hour}")
            self.assertLess(result - start, datetime.timedelta(hours=24))


@tagged("post_install", "-at_install", "freelancer_mass_mail")
class TestFanSendTime(FanMassMailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.evening_fan = cls.fan_granted
        cls.morning_fan = cls.fan_granted_2
        cls.new_fan = cls.env["res.partner"].create(
            {"name": "新粉丝", "email": "newfan@example.com", "is_fan": True}
        )
        cls.new_fan._fan_record_consent("email", "grant", "manual")
        # Evening reader: three opens around 20:15 Shanghai time (12:15 UTC).
        for day in (10, 11, 12):
            cls.evening_fan._fan_log_interaction(
                "email_open", date=datetime.datetime(2026, 2, day, 12, 15)
            )
        # One late click that must not outweigh the evening habit.
        cls.evening_fan._fan_log_interaction(
            "email_click", date=datetime.datetime(2026, 2, 13, 15, 0)
        )
        # Morning reader: two clicks around 08:10 Shanghai time (00:10 UTC).
        for day in (10, 11):
            cls.morning_fan._fan_log_interaction(
                "email_click", date=datetime.datetime(2026, 2, day, 0, 10)
            )
        # A WeChat message at 03:00 is not email reading and is ignored.
        cls.morning_fan._fan_log_interaction(
            "wechat_message", date=datetime.datetime(2026, 2, 12, 19, 0)
        )
        cls.recipients = cls.evening_fan | cls.morning_fan | cls.new_fan
        cls.mailing = cls.env["mailing.mailing"].create(
            {
                "subject": "本周手作",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "in", cls.recipients.ids)]),
                "body_html": "<p>本周手作。</p>" + UNSUBSCRIBE_FOOTER,
                "fan_send_at_best_hour": True,
            }
        )

    def _slot(self, partner):
        return self.mailing.fan_send_slot_ids.filtered(lambda s: s.partner_id == partner)

    def _traced(self):
        return self.env["res.partner"].browse(self.mailing.mailing_trace_ids.mapped("res_id"))

    def _run_queue(self, at):
        with (
            freeze_time(at),
            self.mock_mail_gateway(mail_unlink_sent=False),
            self.enter_registry_test_mode(),
        ):
            self.env.ref("mass_mailing.ir_cron_mass_mailing_queue").sudo().method_direct_trigger()
        # The cron runs in its own environment, so reread what it wrote.
        self.env.invalidate_all()

    def test_best_hours_set_based(self):
        updated = self.env["res.partner"]._fan_compute_best_send_hours(self.recipients.ids)
        self.assertEqual(updated, 2)
        self.assertEqual(self.evening_fan.fan_best_send_hour, 20)
        self.assertEqual(self.morning_fan.fan_best_send_hour, 8)
        self.assertEqual(self.new_fan.fan_best_send_hour, -1)
        self.assertEqual(self.env["res.partner"]._fan_audience_best_hour(self.recipients.ids), 20)

    def test_hour_histogram(self):
        counts = dict(
            self.env["fan.send.hour.report"]._read_group(
                [("partner_id", "in", self.recipients.ids)], ["hour"], ["__count"]
            )
        )
        self.assertEqual(counts, {20: 3, 23: 1, 8: 2})
        action = self.mailing.action_view_fan_send_hours()
        self.assertEqual(action["res_model"], "fan.send.hour.report")

    def test_slots_planned_within_24_hours(self):
        with freeze_time(T0):
            self.mailing.action_put_in_queue()
        self.assertEqual(self.mailing.fan_send_start, T0)
        evening, morning, new = (self._slot(p) for p in self.recipients)
        self.assertEqual((evening.hour, evening.from_audience), (20, False))
        self.assertEqual(evening.scheduled_at, datetime.datetime(2026, 3, 2, 12, 0))
        self.assertEqual((morning.hour, morning.from_audience), (8, False))
        self.assertEqual(morning.scheduled_at, datetime.datetime(2026, 3, 3, 0, 0))
        # No history: the audience's best hour.
        self.assertEqual((new.hour, new.from_audience), (20, True))
        self.assertEqual(new.scheduled_at, datetime.datetime(2026, 3, 2, 12, 0))
        self.assertEqual(self.mailing.state, "in_queue")
        self.assertEqual(self.mailing.schedule_date, datetime.datetime(2026, 3, 2, 12, 0))

    def test_queue_sends_each_fan_at_their_hour(self):
        with freeze_time(T0):
            self.mailing.action_put_in_queue()
        self._run_queue(T0 + datetime.timedelta(minutes=5))
        self.assertFalse(self.mailing.mailing_trace_ids, "nobody is due at 09:35")

        self._run_queue(datetime.datetime(2026, 3, 2, 12, 5))
        self.assertEqual(self._traced(), self.evening_fan | self.new_fan)
        self.assertEqual(self.mailing.state, "in_queue")
        self.assertEqual(self.mailing.schedule_date, datetime.datetime(2026, 3, 3, 0, 0))

        self._run_queue(datetime.datetime(2026, 3, 3, 0, 5))
        self.assertEqual(self._traced(), self.recipients)
        self.assertEqual(len(self.mailing.mailing_trace_ids), 3, "one message per recipient")
        self.assertEqual(self.mailing.state, "done")

    def test_withdrawn_due_fan_does_not_block(self):
        with freeze_time(T0):
            self.mailing.action_put_in_queue()
        self.evening_fan._fan_record_consent("email", "withdraw", "manual")
        self.new_fan._fan_record_consent("email", "withdraw", "manual")
        self.mailing.mailing_domain = repr(
            [("id", "in", self.recipients.ids), ("consent_email", "=", "granted")]
        )
        # At 20:05 nobody eligible is due: the mailing waits for 08:00 instead of ending.
        self._run_queue(datetime.datetime(2026, 3, 2, 12, 5))
        self.assertFalse(self.mailing.mailing_trace_ids)
        self.assertEqual(self.mailing.state, "in_queue")
        self.assertEqual(self.mailing.schedule_date, datetime.datetime(2026, 3, 3, 0, 0))
        self._run_queue(datetime.datetime(2026, 3, 3, 0, 5))
        self.assertEqual(self._traced(), self.morning_fan)
        self.assertEqual(self.mailing.state, "done")

    def test_without_option_sends_all_at_once(self):
        self.mailing.fan_send_at_best_hour = False
        with freeze_time(T0):
            self.mailing.action_put_in_queue()
        self._run_queue(T0 + datetime.timedelta(minutes=5))
        self.assertEqual(self._traced(), self.recipients)
        self.assertFalse(self.mailing.fan_send_slot_ids)
