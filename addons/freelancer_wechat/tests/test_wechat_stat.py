from datetime import date, timedelta
from unittest.mock import patch

from odoo.tests import tagged

from .common import WechatApiCase


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestWechatStat(WechatApiCase):
    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()
        self.fake_api.read_hours.clear()

    def test_sync_spans_of_seven_days(self):
        self.fake_api.read_hours.update({8: 5, 21: 40, 12: 10})
        self.api_account.stat_last_date = date(2026, 11, 13)

        finished = self.env["wechat.stat.user"]._wechat_sync(
            self.api_account, end_date=date(2026, 11, 29)
        )

        self.assertTrue(finished)
        # 16 days: spans of 7, 7 and 2 days; articles and hours are fetched per day.
        calls = self.fake_api.calls
        self.assertEqual(calls["/datacube/getusersummary"], 3)
        self.assertEqual(calls["/datacube/getusercumulate"], 3)
        self.assertEqual(calls["/datacube/getarticlesummary"], 16)
        self.assertEqual(calls["/datacube/getuserreadhour"], 16)
        stats = self.env["wechat.stat.user"].search([("account_id", "=", self.api_account.id)])
        self.assertEqual(len(stats), 16)
        self.assertEqual(set(stats.mapped("net_user")), {2})
        last = stats.filtered(lambda s: s.date == date(2026, 11, 29))
        self.assertEqual(last.cumulate_user, 129)
        self.assertEqual(self.api_account.stat_last_date, date(2026, 11, 29))
        articles = self.env["wechat.stat.article"].search(
            [("account_id", "=", self.api_account.id)]
        )
        self.assertEqual(len(articles), 16)
        hours = self.env["wechat.stat.read.hour"].search([("account_id", "=", self.api_account.id)])
        self.assertEqual(len(hours), 48)

    def test_suggested_push_hour(self):
        self.assertEqual(self.api_account.suggested_push_hour, -1)
        self.fake_api.read_hours.update({8: 5, 21: 40, 12: 10})
        today = date.today()
        self.api_account.stat_last_date = today - timedelta(days=3)
        self.env["wechat.stat.user"]._wechat_sync(self.api_account, end_date=today)
        self.api_account.invalidate_recordset(["suggested_push_hour"])
        self.assertEqual(self.api_account.suggested_push_hour, 21)

    def test_resync_does_not_duplicate(self):
        self.api_account.stat_last_date = date(2026, 11, 26)
        self.env["wechat.stat.user"]._wechat_sync(self.api_account, end_date=date(2026, 11, 29))
        self.api_account.stat_last_date = date(2026, 11, 26)
        self.env["wechat.stat.user"]._wechat_sync(self.api_account, end_date=date(2026, 11, 29))
        stats = self.env["wechat.stat.user"].search([("account_id", "=", self.api_account.id)])
        self.assertEqual(len(stats), 3)

    def test_failure_keeps_stored_days(self):
        self.api_account.stat_last_date = date(2026, 11, 13)
        original = self.fake_api.handle
        counter = {"summary": 0}

        def handle(method, path, query, body):
            if path == "/datacube/getusersummary":
                counter["summary"] += 1
                if counter["summary"] == 2:
                    self.fake_api.fail(path, 45009)
            return original(method, path, query, body)

        with patch.object(self.fake_api, "handle", handle):
            finished = self.env["wechat.stat.user"]._wechat_sync(
                self.api_account, end_date=date(2026, 11, 29)
            )
        self.assertFalse(finished)
        self.assertEqual(self.api_account.stat_last_date, date(2026, 11, 20))
        self.assertEqual(self.api_account.api_state, "error")

    def test_first_sync_fetches_thirty_days(self):
        self.env["wechat.stat.user"]._wechat_sync(self.api_account, end_date=date(2026, 11, 29))
        stats = self.env["wechat.stat.user"].search([("account_id", "=", self.api_account.id)])
        self.assertEqual(len(stats), 30)
        self.assertEqual(min(stats.mapped("date")), date(2026, 10, 31))
