"""Kill the mass-mailing sender mid-campaign, resume it, and count what the SMTP server got.

The sender is this file run as a script (``worker`` below): it processes
the mass-mailing queue and the mail queue of a database of its own,
as the Odoo crons do, against an aiosmtpd server on 127.0.0.1. The SMTP
handler SIGKILLs the sender while it transmits a message, before replying
250, so that message was never accepted. After a second run every fan must
have exactly one message.

NOTE: a kill after the server answered 250 but before Odoo committed the
mail as sent would send that one message twice; SMTP gives the client no
way to avoid this, so the test does not cover that window.
"""

import argparse
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import psycopg2
import pytest
from aiosmtpd.controller import Controller
from psycopg2 import sql

RECIPIENTS = 120
KILL_AFTER = 45  # messages accepted before the sender is killed
WORKER_TIMEOUT = 300  # seconds
FAN_EMAIL = "resume.fan{index:04d}@example.com"


# ---------------------------------------------------------------------------
# Worker: runs inside the Odoo Python, never inside pytest.
# ---------------------------------------------------------------------------


def worker(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["setup", "send"])
    parser.add_argument("--database", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-port", default="5432")
    parser.add_argument("--db-user", required=True)
    parser.add_argument("--smtp-port", type=int, default=25)
    args = parser.parse_args(argv)

    import odoo  # noqa: PLC0415
    from odoo import api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config([
        "--addons-path", args.addons_path,
        "--db_host", args.db_host,
        "--db_port", str(args.db_port),
        "--db_user", args.db_user,
        "--smtp", "127.0.0.1",
        "--smtp-port", str(args.smtp_port),
        "--log-level", "warn",
    ])  # fmt: skip
    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        if args.mode == "setup":
            _setup_campaign(env)
        else:
            # Same order as the crons: build the mail.mail records, then send them.
            env["mailing.mailing"]._process_mass_mailing_queue()
            while env["mail.mail"].search_count([("state", "=", "outgoing")]):
                env["mail.mail"].process_email_queue()


def _setup_campaign(env):
    env["ir.mail_server"].search([]).action_archive()
    env["ir.config_parameter"].set_param("mail.default.from", "news")
    env["ir.config_parameter"].set_param("mail.catchall.domain", "example.com")
    partners = env["res.partner"].create(
        [
            {"name": f"续发粉丝 {index}", "email": FAN_EMAIL.format(index=index), "is_fan": True}
            for index in range(RECIPIENTS)
        ]
    )
    partners._fan_record_consent("email", "grant", "manual")
    segment = env["fan.segment"].create(
        {"name": "Resume test", "extra_domain": repr([("email", "=like", "resume.fan%")])}
    )
    mailing = env["mailing.mailing"].create(
        {
            "subject": "续发测试",
            "email_from": "news@example.com",
            "fan_segment_id": segment.id,
            "body_html": '<p>你好</p><p><a href="/unsubscribe_from_list">退订</a></p>',
            "body_arch": '<p>你好</p><p><a href="/unsubscribe_from_list">退订</a></p>',
        }
    )
    mailing.action_put_in_queue()
    env.cr.commit()


# ---------------------------------------------------------------------------
# Test
# ---------------------------------------------------------------------------


class KillingHandler:
    """aiosmtpd handler that kills the sender when message ``kill_after + 1`` arrives."""

    def __init__(self, kill_after):
        self.kill_after = kill_after
        self.process = None
        self.killed = threading.Event()
        self.recipients = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            accepted = sum(self.recipients.values())
            if self.process and not self.killed.is_set() and accepted >= self.kill_after:
                # Killed before the 250 reply: this message was never accepted.
                os.kill(self.process.pid, signal.SIGKILL)
                self.killed.set()
                return "451 Sender killed by the test"
            for rcpt in envelope.rcpt_tos:
                self.recipients[rcpt.lower()] += 1
        return "250 Message accepted for delivery"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings():
    e2e_db = os.environ.get("FREELANCER_E2E_DB")
    addons_path = os.environ.get("ODOO_ADDONS_PATH")
    if not (e2e_db and addons_path):
        pytest.fail(
            "FREELANCER_E2E_DB and ODOO_ADDONS_PATH are not set: run the tests through "
            "scripts/test, which prepares that database."
        )
    return {
        "template": e2e_db,
        "database": f"{e2e_db}_resume",
        "addons_path": addons_path,
        "db_host": os.environ.get("DB_HOST", "127.0.0.1"),
        "db_port": os.environ.get("DB_PORT", "5432"),
        "db_user": os.environ.get("DB_USER") or os.environ.get("USER", "odoo"),
        "python": os.environ.get("ODOO_PYTHON", sys.executable),
    }


def _admin_connection(settings):
    connection = psycopg2.connect(
        host=settings["db_host"],
        port=settings["db_port"],
        user=settings["db_user"],
        dbname="postgres",
    )
    connection.autocommit = True
    return connection


@pytest.fixture
def resume_db():
    """Yield a database of its own for the worker, so its commits stay out of the others.

    It is a copy of the end-to-end database when nobody is connected to that
    one, else (the end-to-end Odoo server is running) a fresh install of
    freelancer_mass_mail, which takes about a minute.
    """
    settings = _settings()
    connection = _admin_connection(settings)
    name = sql.Identifier(settings["database"])
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        try:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    name, sql.Identifier(settings["template"])
                )
            )
        except psycopg2.errors.ObjectInUse:
            _install_fresh(settings)
    yield settings
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    connection.close()
    # The workers write attachments to the default filestore of the database.
    from odoo.tools import config  # noqa: PLC0415

    shutil.rmtree(config.filestore(settings["database"]), ignore_errors=True)


def _install_fresh(settings):
    command = [
        settings["python"], "-m", "odoo",
        "--addons-path", settings["addons_path"],
        "--db_host", settings["db_host"],
        "--db_port", str(settings["db_port"]),
        "--db_user", settings["db_user"],
        "-d", settings["database"],
        "-i", "freelancer_mass_mail",
        "--without-demo", "--stop-after-init", "--no-http", "--log-level", "warn",
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=WORKER_TIMEOUT)


def _worker_command(settings, mode, smtp_port=25):
    return [
        settings["python"], os.path.abspath(__file__), mode,
        "--database", settings["database"],
        "--addons-path", settings["addons_path"],
        "--db-host", settings["db_host"],
        "--db-port", str(settings["db_port"]),
        "--db-user", settings["db_user"],
        "--smtp-port", str(smtp_port),
    ]  # fmt: skip


def _outgoing_count(settings):
    connection = psycopg2.connect(
        host=settings["db_host"],
        port=settings["db_port"],
        user=settings["db_user"],
        dbname=settings["database"],
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM mail_mail WHERE state = 'outgoing'")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_killed_campaign_resumes_without_duplicates(resume_db, tmp_path):
    settings = resume_db
    subprocess.run(_worker_command(settings, "setup"), check=True, timeout=WORKER_TIMEOUT)

    handler = KillingHandler(KILL_AFTER)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        log = (tmp_path / "worker.log").open("w")
        handler.process = subprocess.Popen(
            _worker_command(settings, "send", port), stdout=log, stderr=subprocess.STDOUT
        )
        returncode = handler.process.wait(timeout=WORKER_TIMEOUT)
        assert handler.killed.is_set(), f"the sender finished before the kill ({returncode})"
        assert returncode == -signal.SIGKILL
        assert sum(handler.recipients.values()) == KILL_AFTER
        assert _outgoing_count(settings) > 0, "the kill left nothing to resume"

        handler.process = None
        started = time.monotonic()
        subprocess.run(
            _worker_command(settings, "send", port),
            check=True,
            timeout=WORKER_TIMEOUT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
    finally:
        controller.stop()

    expected = {FAN_EMAIL.format(index=index) for index in range(RECIPIENTS)}
    assert set(handler.recipients) == expected, (
        f"missing: {sorted(expected - set(handler.recipients))[:5]}, "
        f"unexpected: {sorted(set(handler.recipients) - expected)[:5]}"
    )
    duplicates = {rcpt: count for rcpt, count in handler.recipients.items() if count != 1}
    assert not duplicates, f"recipients mailed more than once: {duplicates}"
    assert _outgoing_count(settings) == 0
    assert time.monotonic() - started < WORKER_TIMEOUT


if __name__ == "__main__":
    worker(sys.argv[1:])
