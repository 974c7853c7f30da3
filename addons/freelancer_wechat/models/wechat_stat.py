import logging
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from odoo import api, fields, models

from .wechat_account_api import UNAUTHORIZED_ERRCODE, WechatApiError

_logger = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
# WeChat publishes the previous day's statistics after 08:00 Beijing time.
STATS_READY_HOUR = 8
# Maximum days per getusersummary / getusercumulate call.
USER_STAT_SPAN_DAYS = 7
# Days fetched by the first statistics sync of an account.
FIRST_SYNC_DAYS = 30


class WechatStatUser(models.Model):
    _name = "wechat.stat.user"
    _description = "WeChat Daily Follower Statistics"
    _order = "date desc, account_id"
    _rec_name = "date"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    date = fields.Date(required=True)
    new_user = fields.Integer(string="New Followers", aggregator="sum")
    cancel_user = fields.Integer(string="Unfollows", aggregator="sum")
    net_user = fields.Integer(
        string="Net Growth",
        compute="_compute_net_user",
        store=True,
        aggregator="sum",
    )
    cumulate_user = fields.Integer(string="Total Followers", aggregator="max")

    _account_date_unique = models.Constraint(
        "UNIQUE(account_id, date)", "One row of follower statistics per account and day."
    )

    @api.depends("new_user", "cancel_user")
    def _compute_net_user(self):
        for stat in self:
            stat.net_user = stat.new_user - stat.cancel_user

    # ------------------------------------------------------------
    # SYNC
    # ------------------------------------------------------------

    @api.model
    def _stat_last_ready_day(self):
        """Return the last day whose statistics WeChat has published."""
        now = datetime.now(BEIJING)
        days_back = 1 if now.hour >= STATS_READY_HOUR else 2
        return now.date() - timedelta(days=days_back)

    @api.model
    def _cron_sync(self):
        accounts = self.env["wechat.account"].search(
            [("app_secret", "!=", False), ("api_state", "!=", "unauthorized")]
        )
        for account in accounts:
            self._wechat_sync(account)

    @api.model
    def _wechat_sync(self, account, end_date=None):
        """Store user, article and hourly-read statistics up to ``end_date``.

        Returns True when every day was stored. A failed call stops the sync;
        the days stored before it are kept, and the next run starts after
        ``stat_last_date``.
        """
        end_date = end_date or self._stat_last_ready_day()
        start = (
            account.stat_last_date + timedelta(days=1)
            if account.stat_last_date
            else end_date - timedelta(days=FIRST_SYNC_DAYS - 1)
        )
        feature = self.env._("Statistics sync")
        while start <= end_date:
            span_end = min(start + timedelta(days=USER_STAT_SPAN_DAYS - 1), end_date)
            try:
                self._wechat_sync_users(account, start, span_end, feature)
                day = start
                while day <= span_end:
                    self._wechat_sync_day(account, day, feature)
                    day += timedelta(days=1)
            except WechatApiError as error:
                _logger.warning(
                    "WeChat statistics sync of account %s stopped at %s (errcode %s)",
                    account.id,
                    start,
                    error.errcode,
                )
                if error.errcode != UNAUTHORIZED_ERRCODE:
                    account.write({"api_state": "error", "api_message": error.args[0]})
                return False
            account.stat_last_date = span_end
            self.env["ir.cron"]._commit_progress(0)
            start = span_end + timedelta(days=1)
        return True

    @api.model
    def _wechat_sync_users(self, account, begin, end, feature):
        summary = account._wechat_call(
            lambda client: client.datacube.get_user_summary(begin, end), feature
        )
        cumulate = account._wechat_call(
            lambda client: client.datacube.get_user_cumulate(begin, end), feature
        )
        # The summary has one row per day and follow source; the sums are kept.
        by_day = defaultdict(lambda: {"new_user": 0, "cancel_user": 0, "cumulate_user": 0})
        for row in summary:
            day = by_day[row["ref_date"]]
            day["new_user"] += int(row.get("new_user") or 0)
            day["cancel_user"] += int(row.get("cancel_user") or 0)
        for row in cumulate:
            by_day[row["ref_date"]]["cumulate_user"] = int(row.get("cumulate_user") or 0)
        for ref_date, values in by_day.items():
            _upsert(self, account, [("date", "=", ref_date)], dict(values, date=ref_date))

    @api.model
    def _wechat_sync_day(self, account, day, feature):
        articles = account._wechat_call(
            lambda client: client.datacube.get_article_summary(day, day), feature
        )
        Article = self.env["wechat.stat.article"]
        for row in articles:
            values = {
                "date": row["ref_date"],
                "msgid": row["msgid"],
                "title": row.get("title"),
                "read_user": row.get("int_page_read_user") or 0,
                "read_count": row.get("int_page_read_count") or 0,
                "share_user": row.get("share_user") or 0,
                "share_count": row.get("share_count") or 0,
                "favorite_user": row.get("add_to_fav_user") or 0,
            }
            domain = [("date", "=", row["ref_date"]), ("msgid", "=", row["msgid"])]
            _upsert(Article, account, domain, values)

        hours = account._wechat_call(
            lambda client: client.datacube.get_user_read_hour(day, day), feature
        )
        # ref_hour is HHMM (0, 100, ... 2300); rows per read source are summed.
        by_hour = defaultdict(lambda: {"read_user": 0, "read_count": 0})
        for row in hours:
            hour = by_hour[(row["ref_date"], int(row["ref_hour"]) // 100)]
            hour["read_user"] += int(row.get("int_page_read_user") or 0)
            hour["read_count"] += int(row.get("int_page_read_count") or 0)
        ReadHour = self.env["wechat.stat.read.hour"]
        for (ref_date, hour), values in by_hour.items():
            domain = [("date", "=", ref_date), ("hour", "=", hour)]
            _upsert(ReadHour, account, domain, dict(values, date=ref_date, hour=hour))


class WechatStatArticle(models.Model):
    _name = "wechat.stat.article"
    _description = "WeChat Daily Article Statistics"
    _order = "date desc, read_user desc"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    date = fields.Date(required=True)
    msgid = fields.Char(string="Article ID", required=True, help="msgid from WeChat statistics.")
    title = fields.Char()
    read_user = fields.Integer(string="Readers", aggregator="sum")
    read_count = fields.Integer(string="Reads", aggregator="sum")
    share_user = fields.Integer(string="Sharers", aggregator="sum")
    share_count = fields.Integer(string="Shares", aggregator="sum")
    favorite_user = fields.Integer(string="Added to Favorites", aggregator="sum")

    _account_date_msgid_unique = models.Constraint(
        "UNIQUE(account_id, date, msgid)", "One row of article statistics per article and day."
    )


class WechatStatReadHour(models.Model):
    _name = "wechat.stat.read.hour"
    _description = "WeChat Hourly Article Reads"
    _order = "date desc, hour"
    _rec_name = "date"

    account_id = fields.Many2one(
        comodel_name="wechat.account",
        string="Official Account",
        required=True,
        ondelete="cascade",
        index=True,
    )
    date = fields.Date(required=True)
    hour = fields.Integer(
        required=True, aggregator=None, help="Hour of the day, 0 to 23, Beijing time."
    )
    read_user = fields.Integer(string="Readers", aggregator="sum")
    read_count = fields.Integer(string="Reads", aggregator="sum")

    _account_date_hour_unique = models.Constraint(
        "UNIQUE(account_id, date, hour)", "One row of hourly reads per account, day and hour."
    )


def _upsert(model, account, domain, values):
    record = model.search([("account_id", "=", account.id), *domain], limit=1)
    if record:
        record.write(values)
    else:
        model.create(dict(values, account_id=account.id))
