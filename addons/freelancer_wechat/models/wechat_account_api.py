import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg2
import requests
from wechatpy.exceptions import WeChatClientException

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.sql_db import Cursor

from ..tools import (
    RATE_LIMIT_ERRCODES,
    TOKEN_ERRCODES,
    UNAUTHORIZED_ERRCODE,
    AccountClient,
    TokenError,
    errcode_of,
    fetch_token,
)

_logger = logging.getLogger(__name__)

# A token is replaced this many seconds before WeChat's expiry, so that a call
# started just before the expiry does not fail.
TOKEN_REFRESH_MARGIN = 300
# Seconds to wait before the next follower sync after a rate-limit errcode:
# 45011 is a per-minute quota, 45009 the daily quota.
RATE_LIMIT_RETRY_SECONDS = {45011: 60, 45009: 3600}
DEFAULT_RETRY_SECONDS = 600
# Maximum OpenIDs per user/get page and per user/info/batchget call.
FOLLOWER_PAGE_SIZE = 10000
# Days of hourly reads that the suggested push hour is computed from.
PUSH_HOUR_DAYS = 30
BATCHGET_SIZE = 100


class WechatApiError(UserError):
    """A WeChat API call failed.

    ``errcode`` is WeChat's code or None; ``result`` is the decoded JSON body of
    WeChat's response, or an empty dict.
    """

    def __init__(self, message, errcode=None, result=None):
        super().__init__(message)
        self.errcode = errcode
        self.result = result or {}


class WechatAccount(models.Model):
    _inherit = "wechat.account"

    api_state = fields.Selection(
        [
            ("unknown", "Not Checked"),
            ("ok", "Available"),
            ("unauthorized", "Not Authorized"),
            ("error", "Failed"),
        ],
        string="API Status",
        default="unknown",
        readonly=True,
        copy=False,
        help="Result of the last WeChat API call or connection test.",
    )
    api_message = fields.Text(
        string="API Message", readonly=True, copy=False, help="What the last API call returned."
    )
    follower_next_openid = fields.Char(
        string="Follower Sync Position",
        readonly=True,
        copy=False,
        help="next_openid of the next follower page to fetch. Empty when no sync is in "
        "progress; a failed sync resumes from here.",
    )
    follower_sync_date = fields.Datetime(string="Last Follower Sync", readonly=True, copy=False)
    follower_total = fields.Integer(
        string="Followers on WeChat",
        readonly=True,
        copy=False,
        help="Follower count returned by WeChat at the last follower sync.",
    )

    stat_last_date = fields.Date(
        string="Statistics Up To",
        readonly=True,
        copy=False,
        help="Last day whose WeChat statistics are stored.",
    )
    suggested_push_hour = fields.Integer(
        compute="_compute_suggested_push_hour",
        help="Hour of the day (Beijing time) with the most article readers over the last "
        "30 days of hourly reads; -1 when no reads are stored.",
    )

    def _compute_suggested_push_hour(self):
        since = fields.Date.today() - timedelta(days=PUSH_HOUR_DAYS)
        groups = self.env["wechat.stat.read.hour"]._read_group(
            [("account_id", "in", self.ids), ("date", ">=", since)],
            ["account_id", "hour"],
            ["read_user:sum"],
        )
        best = {}
        for account, hour, readers in groups:
            if readers and readers > best.get(account, (-1, 0))[1]:
                best[account] = (hour, readers)
        for account in self:
            account.suggested_push_hour = best.get(account, (-1, 0))[0]

    # ------------------------------------------------------------
    # ACCESS TOKEN
    # ------------------------------------------------------------

    def _wechat_token_is_usable(self, token, expires_at, stale_token=None):
        if not token or not expires_at or token == stale_token:
            return False
        margin = timedelta(seconds=TOKEN_REFRESH_MARGIN)
        return expires_at - margin > fields.Datetime.now()

    def _wechat_get_access_token(self, force=False, stale_token=None):
        """Return the account's shared access token, fetched when missing or expiring.

        With ``force``, a new token is fetched unless the stored one differs
        from ``stale_token`` (another process already replaced it).
        """
        self.ensure_one()
        if not force:
            self.env.cr.execute(
                "SELECT access_token, expires_at FROM wechat_access_token WHERE account_id = %s",
                [self.id],
            )
            row = self.env.cr.fetchone()
            if row and self._wechat_token_is_usable(*row):
                return row[0]
        return self._wechat_refresh_token(stale_token=stale_token, force=force)

    def _wechat_refresh_token(self, stale_token=None, force=False):
        """Fetch a new access token under a row lock and return it.

        The lock is taken in a separate cursor and committed at once, so one
        process at a time fetches and the others wait, then reuse its token.
        The cursor reads in READ COMMITTED mode: under Odoo's REPEATABLE READ a
        waiting process would fail on the row that the first one updated.
        """
        self.ensure_one()
        account = self.sudo()
        with self.env.registry.cursor() as cr:
            if isinstance(cr, Cursor):
                # Test cursors share the test transaction, where this is not allowed.
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute(
                """
                INSERT INTO wechat_access_token (account_id, fetch_count, create_date, write_date)
                VALUES (%s, 0, now() at time zone 'UTC', now() at time zone 'UTC')
                ON CONFLICT (account_id) DO NOTHING
                """,
                [self.id],
            )
            cr.execute(
                """
                SELECT access_token, expires_at FROM wechat_access_token
                 WHERE account_id = %s FOR UPDATE
                """,
                [self.id],
            )
            token, expires_at = cr.fetchone()
            if self._wechat_token_is_usable(token, expires_at, stale_token) and (
                not force or stale_token
            ):
                return token
            if not account.app_secret:
                raise WechatApiError(
                    self.env._(
                        "The AppSecret of “%(account)s” is missing: an administrator must "
                        "enter it on the account before Odoo can call the WeChat API.",
                        account=self.name,
                    )
                )
            try:
                token, expires_in = fetch_token(
                    account.api_base_url,
                    self.app_id,
                    account.app_secret,
                    force_refresh=bool(stale_token),
                )
            except TokenError as error:
                raise WechatApiError(
                    self._wechat_error_text(error.errcode, error.errmsg), error.errcode
                ) from None
            except requests.RequestException as error:
                _logger.warning(
                    "WeChat token request for account %s failed: %s", self.id, type(error).__name__
                )
                raise WechatApiError(
                    self.env._(
                        "Odoo could not reach the WeChat API at %(url)s (%(error)s). Check the "
                        "network connection of the server, then try again.",
                        url=account.api_base_url,
                        error=type(error).__name__,
                    )
                ) from None
            cr.execute(
                """
                UPDATE wechat_access_token
                   SET access_token = %s,
                       expires_at = (now() at time zone 'UTC') + %s * interval '1 second',
                       fetch_count = fetch_count + 1,
                       write_date = now() at time zone 'UTC'
                 WHERE account_id = %s
                """,
                [token, expires_in, self.id],
            )
        _logger.info("WeChat access token of account %s refreshed", self.id)
        return token

    # ------------------------------------------------------------
    # CALLING THE API
    # ------------------------------------------------------------

    def _wechat_openid_identities(self, partners):
        """Return the OpenID identities of ``partners`` on this account."""
        self.ensure_one()
        return (
            self.env["fan.identity"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("channel", "=", "wechat_openid"),
                    ("account_key", "=", self.app_id),
                ]
            )
        )

    def _wechat_client(self):
        """Return a wechatpy client of this account that uses the shared token."""
        self.ensure_one()
        account = self.sudo()
        return AccountClient(
            self.app_id,
            account.api_base_url,
            lambda force, stale: account._wechat_get_access_token(force, stale),
        )

    def _wechat_call(self, function, feature):
        """Return ``function(client)``, turning WeChat errors into WechatApiError.

        ``feature`` names what the call is for, in the user's words. An errcode
        48001 (API not authorized, the case of unverified accounts) is stored on
        the account in its own transaction, so the form shows it even though
        the caller's transaction is rolled back by the error.
        """
        self.ensure_one()
        client = self._wechat_client()
        try:
            return client.call(function)
        except WeChatClientException as error:
            raise self._wechat_api_error(error, feature) from None
        except requests.RequestException as error:
            raise WechatApiError(
                self.env._(
                    "%(feature)s failed: Odoo could not reach the WeChat API (%(error)s). "
                    "Try again later.",
                    feature=feature,
                    error=type(error).__name__,
                )
            ) from None

    def _wechat_api_error(self, error, feature):
        """Return the WechatApiError for wechatpy's ``error``, storing an errcode 48001."""
        errcode = errcode_of(error)
        message = self._wechat_error_text(errcode, error.errmsg, feature=feature)
        if errcode == UNAUTHORIZED_ERRCODE:
            self._wechat_set_api_state("unauthorized", message)
        elif errcode not in RATE_LIMIT_ERRCODES:
            _logger.warning(
                "WeChat API call for %s of account %s failed with errcode %s",
                feature,
                self.id,
                errcode,
            )
        return WechatApiError(message, errcode, _response_json(error))

    def _wechat_error_text(self, errcode, errmsg, feature=None):
        """Return a WeChat error in plain words, with what to do next."""
        explanations = {
            40001: self.env._("the access token or AppSecret is invalid"),
            40013: self.env._("the AppID is invalid"),
            40125: self.env._("the AppSecret is invalid"),
            40164: self.env._(
                "the server's IP address is not on the IP whitelist of the WeChat back office"
            ),
            42001: self.env._("the access token expired"),
            45009: self.env._("the daily API quota is used up; try again tomorrow"),
            45011: self.env._("too many calls in a short time; try again in a minute"),
            45056: self.env._("the account already has 100 tags, the maximum"),
            45059: self.env._("a follower already has 20 tags, the maximum"),
            45065: self.env._("this mass send was already submitted"),
            UNAUTHORIZED_ERRCODE: self.env._(
                "the account is not authorized for this API. Unverified accounts only get "
                "passive replies and event pushes; verify the account in the WeChat back "
                "office to use it"
            ),
        }
        reason = explanations.get(errcode) or self.env._(
            "WeChat returned: %(errmsg)s", errmsg=errmsg or "-"
        )
        if feature:
            return self.env._(
                "%(feature)s failed for “%(account)s”: %(reason)s (errcode %(errcode)s).",
                feature=feature,
                account=self.name,
                reason=reason,
                errcode=errcode,
            )
        return self.env._(
            "WeChat rejected the request of “%(account)s”: %(reason)s (errcode %(errcode)s).",
            account=self.name,
            reason=reason,
            errcode=errcode,
        )

    def _wechat_set_api_state(self, state, message):
        """Store the API state in a separate transaction that survives a rollback."""
        self.ensure_one()
        try:
            with self.env.registry.cursor() as cr:
                if isinstance(cr, Cursor):
                    # The caller's transaction may hold the row lock: give up
                    # rather than wait for it forever.
                    cr.execute("SET LOCAL lock_timeout = '5s'")
                env = self.env(cr=cr, su=True)
                env["wechat.account"].browse(self.id).write(
                    {"api_state": state, "api_message": message}
                )
        except psycopg2.errors.LockNotAvailable:
            _logger.warning(
                "API state %s of WeChat account %s not stored: the account row is locked",
                state,
                self.id,
            )
        self.invalidate_recordset(["api_state", "api_message"])

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_test_connection(self):
        """Fetch an access token and show the result in a notification."""
        self.ensure_one()
        try:
            self._wechat_refresh_token(force=True)
        except WechatApiError as error:
            message = error.args[0]
            self._wechat_set_api_state(
                "unauthorized" if error.errcode == UNAUTHORIZED_ERRCODE else "error", message
            )
            return _notification(self.env._("Connection failed"), message, "danger")
        message = self.env._(
            "Odoo fetched an access token for “%(account)s”: the AppID and AppSecret are "
            "correct and the API is reachable.",
            account=self.name,
        )
        self.write({"api_state": "ok", "api_message": message})
        return _notification(self.env._("Connection works"), message, "success")

    def action_publish_menu(self):
        """Replace the account's WeChat menu with its menu buttons (menu/create)."""
        self.ensure_one()
        buttons = self.env["wechat.menu.button"].search(
            [("account_id", "=", self.id), ("parent_id", "=", False)]
        )
        if not buttons:
            raise UserError(self.env._("Add at least one menu button before publishing."))
        payload = {"button": [button._to_wechat() for button in buttons]}
        self._wechat_call(
            lambda client: client.post("menu/create", data=payload), self.env._("Menu publishing")
        )
        return _notification(
            self.env._("Menu published"),
            self.env._("Followers see the new menu within a few minutes."),
            "success",
        )

    def action_pull_tags(self):
        self.ensure_one()
        self.env["wechat.tag"]._wechat_pull(self)
        return self.env["ir.actions.act_window"]._for_xml_id("freelancer_wechat.wechat_tag_action")

    def action_sync_followers(self):
        self.ensure_one()
        finished = self._wechat_sync_followers()
        if finished:
            message = self.env._("%(count)s followers synchronized.", count=self.follower_total)
            return _notification(self.env._("Follower sync"), message, "success")
        return _notification(self.env._("Follower sync"), self.api_message or "", "warning")

    # ------------------------------------------------------------
    # FOLLOWER SYNC
    # ------------------------------------------------------------

    def action_sync_statistics(self):
        self.ensure_one()
        self.env["wechat.stat.user"]._wechat_sync(self)
        return self.env["ir.actions.act_window"]._for_xml_id(
            "freelancer_wechat.wechat_stat_user_action"
        )

    @api.model
    def _cron_sync_followers(self):
        accounts = self.search([("app_secret", "!=", False), ("api_state", "!=", "unauthorized")])
        for account in accounts:
            account._wechat_sync_followers()

    def _wechat_sync_followers(self):
        """Fetch all followers and create or link their fans; return True when done.

        Each ``user/get`` page of up to 10,000 OpenIDs is read by
        ``user/info/batchget`` in chunks of 100, imported, and committed with
        its ``next_openid``, so a failed run resumes at the page it was on.
        While a page is imported, the next one is fetched in a worker thread,
        so the API's latency and the database work overlap.
        A rate-limit errcode stops the run and schedules the cron again later.
        """
        self.ensure_one()
        feature = self.env._("Follower sync")
        Partner = self.env["res.partner"]
        prefetch_client = self._wechat_prefetch_client()
        ahead = None  # (start, future) of the page fetched in advance
        tags, tags_downloaded = None, False
        with ThreadPoolExecutor(max_workers=1) as pool:
            while True:
                start = self.follower_next_openid or None
                fetched = None
                try:
                    if ahead and ahead[0] == start:
                        fetched = self._wechat_prefetched_page(ahead[1], feature)
                    page, users = fetched or self._wechat_fetch_follower_page(start, feature)
                except WechatApiError as error:
                    self._wechat_follower_sync_failed(error)
                    return False
                openids = (page.get("data") or {}).get("openid") or []
                next_openid = page.get("next_openid") or False
                finished = not openids or not next_openid or len(openids) < FOLLOWER_PAGE_SIZE
                ahead = None
                if not finished and prefetch_client:
                    ahead = (
                        next_openid,
                        pool.submit(_fetch_follower_page, prefetch_client, next_openid),
                    )
                followers = [user for user in users if user.get("subscribe")]
                fans = Partner._wechat_sync_fans(self, followers)
                tags, tags_downloaded = self._wechat_sync_tag_members(
                    followers, fans, tags, tags_downloaded
                )
                vals = {"follower_next_openid": False if finished else next_openid}
                vals["follower_total"] = int(page.get("total") or 0)
                if finished:
                    vals["follower_sync_date"] = fields.Datetime.now()
                    vals["api_state"] = "ok"
                self.write(vals)
                remaining = max(vals["follower_total"] - len(openids), 0)
                self.env["ir.cron"]._commit_progress(len(openids), remaining=remaining)
                _logger.info(
                    "WeChat follower sync of account %s: %s followers imported, %s",
                    self.id,
                    len(users),
                    "done" if finished else "more pages to come",
                )
                if finished:
                    return True

    def _wechat_sync_tag_members(self, users, fans, tags, downloaded):
        """Set the tags of ``fans`` from the ``tagid_list`` of their profiles ``users``.

        ``tags`` maps WeChat tag IDs to the account's tags, or is None on the
        first page. An unknown tag ID makes the tag list be downloaded first,
        once per sync (``downloaded``). Returns both for the next page.
        """
        Tag = self.env["wechat.tag"].sudo()
        if tags is None:
            domain = [("account_id", "=", self.id), ("wechat_id", "!=", 0)]
            tags = {tag.wechat_id: tag for tag in Tag.search(domain)}
        listed = {tag_id for user in users for tag_id in user.get("tagid_list") or []}
        if not listed.issubset(tags) and not downloaded:
            try:
                downloaded_tags = Tag._wechat_pull(self)
            except WechatApiError as error:
                _logger.warning(
                    "WeChat tags of account %s not downloaded during the follower sync "
                    "(errcode %s); unknown tag IDs are skipped",
                    self.id,
                    error.errcode,
                )
            else:
                tags.update((tag.wechat_id, tag) for tag in downloaded_tags)
            downloaded = True
        members = {}
        for user, fan in zip(users, fans, strict=True):
            for tag_id in user.get("tagid_list") or []:
                members.setdefault(tag_id, set()).add(fan.id)
        page_fan_ids = set(fans.ids)
        for wechat_id, tag in tags.items():
            current = set(tag.partner_ids.ids) & page_fan_ids
            member_ids = members.get(wechat_id, set())
            commands = [Command.link(fan_id) for fan_id in member_ids - current]
            commands += [Command.unlink(fan_id) for fan_id in current - member_ids]
            if commands:
                tag.write({"partner_ids": commands})
        return tags, downloaded

    def _wechat_fetch_follower_page(self, start, feature):
        """Return ``(page, users)`` for the ``user/get`` page starting at ``start``."""
        page = self._wechat_call(lambda client: client.user.get_followers(start), feature)
        openids = (page.get("data") or {}).get("openid") or []
        users = []
        for index in range(0, len(openids), BATCHGET_SIZE):
            chunk = openids[index : index + BATCHGET_SIZE]
            users += self._wechat_call(
                lambda client, chunk=chunk: client.user.get_batch(chunk), feature
            )
        return page, users

    def _wechat_prefetched_page(self, future, feature):
        """Return the result of a page fetched in advance, or None to fetch it again.

        After a token error (the fixed token expired meanwhile) or a network
        error, the page is fetched again with ``_wechat_call``. Any other
        errcode, such as a rate limit, fails the sync as it would there.
        """
        try:
            return future.result()
        except WeChatClientException as error:
            if errcode_of(error) in TOKEN_ERRCODES:
                return None
            raise self._wechat_api_error(error, feature) from None
        except requests.RequestException:
            return None

    def _wechat_prefetch_client(self):
        """Return a client for a worker thread, with the current token fixed, or None.

        A worker thread cannot use this environment, so its client cannot
        refresh the token: any error there makes the page be fetched again
        through ``_wechat_call``.
        """
        try:
            token = self.sudo()._wechat_get_access_token()
        except (UserError, requests.RequestException):
            return None
        return AccountClient(self.app_id, self.sudo().api_base_url, lambda force, stale: token)

    def _wechat_follower_sync_failed(self, error):
        if error.errcode == UNAUTHORIZED_ERRCODE:
            return
        delay = RATE_LIMIT_RETRY_SECONDS.get(error.errcode, DEFAULT_RETRY_SECONDS)
        _logger.warning(
            "WeChat follower sync of account %s stopped (errcode %s); retry in %s s from "
            "position %s",
            self.id,
            error.errcode,
            delay,
            "start" if not self.follower_next_openid else "stored next_openid",
        )
        self.write({"api_state": "error", "api_message": error.args[0]})
        cron = self.env.ref("freelancer_wechat.ir_cron_wechat_sync_followers", False)
        if cron:
            cron._trigger(at=fields.Datetime.now() + timedelta(seconds=delay))


def _fetch_follower_page(client, start):
    """Return ``(page, users)`` like ``_wechat_fetch_follower_page``, for a worker thread."""
    page = client.user.get_followers(start)
    openids = (page.get("data") or {}).get("openid") or []
    users = []
    for index in range(0, len(openids), BATCHGET_SIZE):
        users += client.user.get_batch(openids[index : index + BATCHGET_SIZE])
    return page, users


def _response_json(error):
    try:
        result = error.response.json()
    except (AttributeError, ValueError):
        return {}
    return result if isinstance(result, dict) else {}


def _notification(title, message, notification_type):
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "title": title,
            "message": message,
            "type": notification_type,
            "sticky": notification_type != "success",
        },
    }
