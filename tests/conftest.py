"""Fixtures for the end-to-end tests: a real Odoo server, a real SMTP server.

scripts/test prepares the database named by FREELANCER_E2E_DB (a copy of the
freshly installed test database) and exports how to reach Odoo and
PostgreSQL. Every server here listens on 127.0.0.1 only.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes, policy

import psycopg2
import pytest
import requests
from aiosmtpd.controller import Controller

ODOO_START_TIMEOUT = 300  # seconds; a start on a busy 2-core machine can take minutes


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CapturingHandler:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.SMTP
        )
        with self.lock:
            self.messages.append(
                {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message}
            )
        return "250 Message accepted for delivery"

    def take(self):
        with self.lock:
            messages, self.messages = self.messages, []
        return messages


@pytest.fixture(scope="session")
def smtp_server():
    handler = CapturingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture(scope="session")
def e2e_settings():
    database = os.environ.get("FREELANCER_E2E_DB")
    if not database:
        pytest.fail(
            "FREELANCER_E2E_DB is not set: run the end-to-end tests through scripts/test, "
            "which prepares that database."
        )
    return {
        "database": database,
        "addons_path": os.environ["ODOO_ADDONS_PATH"],
        "db_host": os.environ.get("DB_HOST", "127.0.0.1"),
        "db_port": os.environ.get("DB_PORT", "5432"),
        "db_user": os.environ.get("DB_USER") or os.environ.get("USER", "odoo"),
        "python": os.environ.get("ODOO_PYTHON", sys.executable),
    }


@pytest.fixture(scope="session")
def odoo_server(e2e_settings, smtp_server):
    """Start `odoo` on a free port of 127.0.0.1 and yield its base URL."""
    controller, _handler = smtp_server
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="odoo-e2e-", suffix=".log", delete=False)
    command = [
        e2e_settings["python"], "-m", "odoo",
        "--addons-path", e2e_settings["addons_path"],
        "--db_host", e2e_settings["db_host"],
        "--db_port", str(e2e_settings["db_port"]),
        "--db_user", e2e_settings["db_user"],
        "-d", e2e_settings["database"],
        "--db-filter", f"^{e2e_settings['database']}$",
        "--http-interface", "127.0.0.1",
        "--http-port", str(port),
        "--gevent-port", str(free_port()),
        "--smtp", "127.0.0.1",
        "--smtp-port", str(controller.port),
        "--workers", "0",
        "--max-cron-threads", "0",
        "--log-level", "warn",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ODOO_START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"Odoo exited with {process.returncode}; log: {log.name}")
        try:
            if requests.get(f"{base_url}/web/health", timeout=10).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass  # still starting: on a busy machine the first response can take minutes
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"Odoo did not answer on {base_url} within {ODOO_START_TIMEOUT} s")
        time.sleep(0.5)
    yield base_url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


class Rpc:
    """JSON-RPC client of the running server, logged in as the administrator.

    JSON-RPC rather than XML-RPC because many Odoo actions return None, which
    XML-RPC cannot carry.
    """

    def __init__(self, base_url, database, login="admin", password="admin"):
        self.url = f"{base_url}/jsonrpc"
        self.database = database
        self.password = password
        self.uid = self._call("common", "authenticate", database, login, password, {})
        assert self.uid, "cannot log in as admin on the end-to-end database"

    def _call(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
        }
        response = requests.post(self.url, json=payload, timeout=120)
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            error = body["error"]
            raise RuntimeError(f"{error.get('message')}: {error.get('data', {}).get('debug')}")
        return body.get("result")  # Odoo leaves "result" out when a method returns None

    def __call__(self, model, method, *args, **kwargs):
        return self._call(
            "object", "execute_kw", self.database, self.uid, self.password,
            model, method, list(args), kwargs,
        )  # fmt: skip


@pytest.fixture(scope="session")
def rpc(odoo_server, e2e_settings):
    return Rpc(odoo_server, e2e_settings["database"])


@pytest.fixture(scope="session")
def db(e2e_settings):
    """Read-only view of the database, to check what the server committed."""
    connection = psycopg2.connect(
        host=e2e_settings["db_host"],
        port=e2e_settings["db_port"],
        user=e2e_settings["db_user"],
        dbname=e2e_settings["database"],
    )
    connection.autocommit = True

    def query(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    yield query
    connection.close()
