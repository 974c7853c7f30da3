import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from odoo import SUPERUSER_ID, api, fields, sql_db
from odoo.tests import tagged
from odoo.tools import config

from ..models.wechat_account_api import WechatApiError
from .common import WechatApiCase

WORKER_SCRIPT = Path(__file__).with_name("token_worker.py")
WORKER_COUNT = 4


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestAccessToken(WechatApiCase):
    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()

    def stored_token(self, account=None):
        self.env.cr.execute(
            "SELECT access_token, expires_at, fetch_count FROM wechat_access_token "
            "WHERE account_id = %s",
            [(account or self.api_account).id],
        )
        return self.env.cr.fetchone()

    def test_token_fetched_once_and_reused(self):
        account = self.api_account
        first = account._wechat_get_access_token()
        second = account._wechat_get_access_token()

        self.assertEqual(first, second)
        self.assertEqual(self.fake_api.calls["/cgi-bin/stable_token"], 1)
        self.assertEqual(self.fake_api.calls["/cgi-bin/token"], 0)
        token, expires_at, fetch_count = self.stored_token()
        self.assertEqual(token, first)
        self.assertEqual(fetch_count, 1)
        self.assertGreater(expires_at, fields.Datetime.now() + timedelta(seconds=7000))

    def test_token_refreshed_before_expiry(self):
        account = self.api_account
        first = account._wechat_get_access_token()
        # Four minutes left: inside the five-minute refresh margin.
        self.env.cr.execute(
            "UPDATE wechat_access_token SET expires_at = %s WHERE account_id = %s",
            [fields.Datetime.now() + timedelta(minutes=4), account.id],
        )
        second = account._wechat_get_access_token()
        self.assertNotEqual(first, second)
        self.assertEqual(self.fake_api.calls["/cgi-bin/stable_token"], 2)

    def test_token_falls_back_to_cgi_token(self):
        self.fake_api.fail("/cgi-bin/stable_token", -1)
        token = self.api_account._wechat_get_access_token()
        self.assertTrue(token)
        self.assertEqual(self.fake_api.calls["/cgi-bin/token"], 1)

    def test_token_not_readable_by_users(self):
        self.api_account._wechat_get_access_token()
        Token = self.env["wechat.access.token"]
        self.assertFalse(Token.with_user(self.env.ref("base.user_admin")).has_access("read"))
        self.assertTrue(Token.sudo().search([("account_id", "=", self.api_account.id)]))

    def test_expired_token_refreshed_and_call_retried(self):
        account = self.api_account
        first = account._wechat_get_access_token()
        self.fake_api.expire_tokens()

        result = account._wechat_call(lambda client: client.user.get_followers(), "test")

        self.assertEqual(result["total"], 0)
        self.assertEqual(self.fake_api.calls["/cgi-bin/user/get"], 2)
        token_requests = [req for req in self.fake_api.requests if req[1].endswith("stable_token")]
        self.assertFalse(token_requests[0][3]["force_refresh"])
        self.assertTrue(token_requests[1][3]["force_refresh"], "a rejected token is replaced")
        self.assertEqual(self.fake_api.calls["/cgi-bin/stable_token"], 2)
        self.assertNotEqual(self.stored_token()[0], first)

    def test_token_error_retried_once_only(self):
        self.fake_api.fail("/cgi-bin/user/get", 42001, times=2)
        with self.assertRaises(WechatApiError) as catcher:
            self.api_account._wechat_call(lambda client: client.user.get_followers(), "Test")
        self.assertEqual(catcher.exception.errcode, 42001)
        self.assertEqual(self.fake_api.calls["/cgi-bin/user/get"], 2)

    def test_secret_not_in_logs(self):
        with self.assertLogs("odoo.addons.freelancer_wechat", level="DEBUG") as logs:
            token = self.api_account._wechat_get_access_token()
            self.fake_api.expire_tokens()
            self.api_account._wechat_call(lambda client: client.user.get_followers(), "test")
        output = "\n".join(logs.output)
        self.assertNotIn(token, output)
        self.assertNotIn("api-secret", output)


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestConnection(WechatApiCase):
    def setUp(self):
        super().setUp()
        self.fake_api.reset_counters()

    def test_connection_success(self):
        action = self.api_account.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.api_account.api_state, "ok")
        self.assertEqual(self.fake_api.calls["/cgi-bin/stable_token"], 1)

    def test_connection_wrong_secret(self):
        self.api_account.app_secret = "wrong"
        action = self.api_account.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("AppID is invalid", action["params"]["message"])
        self.assertIn("40013", action["params"]["message"])
        self.assertEqual(self.api_account.api_state, "error")

    def test_connection_unreachable(self):
        self.api_account.api_base_url = "http://127.0.0.1:9"
        action = self.api_account.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("could not reach", action["params"]["message"])

    def test_unauthorized_marks_feature_unavailable(self):
        self.fake_api.fail("/cgi-bin/user/get", 48001)
        finished = self.api_account._wechat_sync_followers()
        self.assertFalse(finished)
        self.assertEqual(self.api_account.api_state, "unauthorized")
        self.assertIn("Follower sync", self.api_account.api_message)
        self.assertIn("Unverified accounts only get passive replies", self.api_account.api_message)
        # The cron skips an account marked unauthorized.
        self.fake_api.reset_counters()
        self.env["wechat.account"]._cron_sync_followers()
        self.assertEqual(self.fake_api.calls["/cgi-bin/user/get"], 0)


@tagged("post_install", "-at_install", "freelancer_wechat")
class TestTokenConcurrency(WechatApiCase):
    """Several OS processes, each with its own registry, hit one expired token."""

    def test_one_fetch_for_concurrent_workers(self):
        self.fake_api.reset_counters()
        self.fake_api.token_delay = 0.5
        self.addCleanup(setattr, self.fake_api, "token_delay", 0.0)
        dbname = self.env.cr.dbname
        # The workers only see committed data, so this test commits its account
        # in its own cursor and deletes it afterwards.
        with sql_db.db_connect(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["wechat.account"].create(
                {
                    "name": "Concurrency Account",
                    "app_id": "wxtestapi00000001conc",
                    "app_secret": "api-secret",
                    "api_base_url": self.fake_api.base_url,
                }
            )
            account_id = account.id
            cr.execute(
                "INSERT INTO wechat_access_token (account_id, access_token, expires_at, "
                "fetch_count) VALUES (%s, 'EXPIRED', %s, 1)",
                [account_id, fields.Datetime.now() - timedelta(minutes=1)],
            )
        self.addCleanup(self._delete_account, dbname, account_id)
        self.fake_api.app_id = "wxtestapi00000001conc"
        self.addCleanup(setattr, self.fake_api, "app_id", "wxtestapi00000001")

        workers = [self._start_worker(dbname, account_id) for _index in range(WORKER_COUNT)]
        try:
            for worker in workers:
                self.assertEqual(worker.stdout.readline().strip(), "ready")
            for worker in workers:
                worker.stdin.write("go\n")
                worker.stdin.flush()
            tokens = [worker.communicate(timeout=120)[0].strip() for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        for worker in workers:
            self.assertEqual(worker.returncode, 0)
        self.assertEqual(self.fake_api.calls["/cgi-bin/stable_token"], 1)
        self.assertEqual(len(set(tokens)), 1, tokens)
        self.assertNotEqual(tokens[0], "EXPIRED")

    def _start_worker(self, dbname, account_id):
        addons_path = config["addons_path"]
        if not isinstance(addons_path, str):
            addons_path = ",".join(addons_path)
        odoo_args = [f"--addons-path={addons_path}", "--log-level=warn"]
        for option in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(option):
                odoo_args.append(f"--{option}={config[option]}")
        return subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), dbname, str(account_id), "--", *odoo_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _delete_account(self, dbname, account_id):
        with sql_db.db_connect(dbname).cursor() as cr:
            cr.execute("DELETE FROM wechat_account WHERE id = %s", [account_id])
