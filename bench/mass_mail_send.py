"""Benchmark: a fan-segment email campaign against a plain mass mailing.

Sends the same recipients twice to an aiosmtpd server on 127.0.0.1, in the
same process: once as a plain Email Marketing mailing on a contacts domain
(the stock mass_mailing path) and once as a mailing to a fan segment
(recipients resolved at send time with consent, checklist, sunset filter).
Each run is a child process covering the whole pipeline as the crons run
it: the composer builds the mail.mail records (committing per batch), then
the mail queue sends them. The SMTP server runs in this parent process, so
it does not compete with the sender for the GIL. It prints messages per
second, the peak resident memory of each child (ru_maxrss, which includes
the loaded registry) and the ratio fan / stock (target: at least 0.9).

The database (default fce_bench_mail) is created with freelancer_mass_mail
on the first run and gets the fans then. Run it with the Python that runs
Odoo:

    $ODOO_PYTHON bench/mass_mail_send.py --recipients 10000
"""

import argparse
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import threading
import time

import psycopg2
from aiosmtpd.controller import Controller
from odoo_bench import add_database_arguments, install_module
from odoo_bench import odoo_options as shared_odoo_options

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

BODY = (
    "<p>你好,这是本周的手作通讯。</p>"
    '<p><a href="https://example.com/courses/autumn">秋季课程</a></p>'
    '<p><a href="/unsubscribe_from_list">退订</a></p>'
)
EMAIL_PATTERN = "mailbench%@example.com"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_database_arguments(parser, "fce_bench_mail")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each variant, alternated")
    parser.add_argument("--addons-path", help="default: Odoo's addons and this repository's")
    # Internal: run one campaign in this process and print its figures as JSON.
    parser.add_argument("--child", choices=["stock", "fan"], help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    return parser.parse_args()


def odoo_options(args, smtp_port=None):
    return shared_odoo_options(args, addons_path=args.addons_path, smtp_port=smtp_port)


def database_exists(args):
    connection = psycopg2.connect(
        host=args.db_host, port=args.db_port, user=args.db_user, dbname="postgres"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
            return bool(cursor.fetchone())
    finally:
        connection.close()


def ensure_database(args):
    if database_exists(args):
        return
    install_module(args, "freelancer_mass_mail", addons_path=args.addons_path)


def generate(env, count):
    """Insert fans mailbench1..mailbench<count> with email consent, skipping existing ones."""
    company = env.ref("base.main_company").id
    env.cr.execute(
        """
        WITH fans AS (
            INSERT INTO res_partner (name, complete_name, is_fan, active, company_id, type,
                                     email, email_normalized, consent_email, lang,
                                     create_date, write_date)
            SELECT '邮件粉丝 ' || n, '邮件粉丝 ' || n, TRUE, TRUE, %(company)s, 'contact',
                   'mailbench' || n || '@example.com', 'mailbench' || n || '@example.com',
                   'granted', 'en_US', now(), now()
              FROM generate_series(1, %(count)s) AS n
             WHERE NOT EXISTS (SELECT 1 FROM res_partner p
                                WHERE p.email = 'mailbench' || n || '@example.com')
         RETURNING id
        )
        INSERT INTO fan_consent (partner_id, channel, action, source, date, user_id,
                                 create_uid, write_uid, create_date, write_date)
        SELECT id, 'email', 'grant', 'import', now(), %(uid)s, %(uid)s, %(uid)s, now(), now()
          FROM fans
        """,
        {"company": company, "count": count, "uid": SUPERUSER_ID},
    )
    env.invalidate_all()
    env.cr.execute("SELECT count(*) FROM res_partner WHERE email LIKE %s", [EMAIL_PATTERN])
    return env.cr.fetchone()[0]


class CountingHandler:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += len(envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def create_mailing(env, variant, label):
    values = {
        "subject": f"Bench {variant} {label}",
        "email_from": "news@example.com",
        "body_html": BODY,
        "body_arch": BODY,
        "keep_archives": False,
    }
    if variant == "fan":
        segment = env["fan.segment"].search([("name", "=", "Mail bench")], limit=1)
        if not segment:
            segment = env["fan.segment"].create(
                {"name": "Mail bench", "extra_domain": repr([("email", "=like", EMAIL_PATTERN)])}
            )
        values["fan_segment_id"] = segment.id
    else:
        values["mailing_model_id"] = env["ir.model"]._get_id("res.partner")
        values["mailing_domain"] = repr([("email", "=like", EMAIL_PATTERN)])
    mailing = env["mailing.mailing"].create(values)
    env.cr.commit()
    return mailing


def send_campaign(env, mailing):
    """Build and send the mailing as the crons do; return the elapsed seconds."""
    started = time.perf_counter()
    mailing.action_send_mail()
    env.cr.commit()
    while env["mail.mail"].search_count([("state", "=", "outgoing")]):
        env["mail.mail"].process_email_queue()
        env.cr.commit()
    return time.perf_counter() - started


def run_child(args):
    config.parse_config([*odoo_options(args, args.smtp_port), "-d", args.db])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        mailing = create_mailing(env, args.child, args.label)
        elapsed = send_campaign(env, mailing)
        traces = env["mailing.trace"].search_count([("mass_mailing_id", "=", mailing.id)])
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"elapsed": elapsed, "traces": traces, "peak_mib": peak_kib / 1024}))


def prepare(args):
    config.parse_config([*odoo_options(args), "-d", args.db])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.mail_server"].search([]).action_archive()
        population = generate(env, args.recipients)
        # Fresh statistics after the bulk insert, so neither variant gets a worse plan.
        cr.execute("ANALYZE res_partner, fan_consent, mailing_trace, mail_mail")
        cr.commit()
    return population


def main():
    args = parse_args()
    if args.child:
        run_child(args)
        return
    ensure_database(args)
    # Every mailbench fan is a recipient, so a database filled by a larger
    # earlier run sends to that larger population.
    recipients = prepare(args)
    print(f"{recipients} recipients", flush=True)
    # aiosmtpd logs every SMTP command at INFO level.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = CountingHandler()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        smtp_port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    results = {"stock": [], "fan": []}
    label = time.strftime("%Y%m%d-%H%M%S")
    try:
        for round_index in range(args.rounds):
            # Alternate which variant goes first, so warm-up effects even out.
            order = ("stock", "fan") if round_index % 2 == 0 else ("fan", "stock")
            for variant in order:
                start_count = handler.count
                output = subprocess.run(
                    [
                        sys.executable,
                        os.path.abspath(__file__),
                        *child_options(args),
                        "--child",
                        variant,
                        "--smtp-port",
                        str(smtp_port),
                        "--label",
                        f"{label}-{round_index}",
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                figures = json.loads(output.strip().splitlines()[-1])
                received = handler.count - start_count
                if received != recipients or figures["traces"] != recipients:
                    raise RuntimeError(
                        f"{variant}: {figures['traces']} traces, {received} messages received, "
                        f"{recipients} expected"
                    )
                rate = recipients / figures["elapsed"]
                results[variant].append((figures["elapsed"], figures["peak_mib"]))
                print(
                    f"{variant:5} round {round_index + 1}: {figures['elapsed']:.1f} s, "
                    f"{rate:.1f} messages/s, peak RSS {figures['peak_mib']:.0f} MiB",
                    flush=True,
                )
    finally:
        controller.stop()

    best = {variant: min(runs) for variant, runs in results.items()}
    stock_rate = recipients / best["stock"][0]
    fan_rate = recipients / best["fan"][0]
    print(f"stock mass_mailing: {stock_rate:.1f} messages/s, peak RSS {best['stock'][1]:.0f} MiB")
    print(f"fan segment:        {fan_rate:.1f} messages/s, peak RSS {best['fan'][1]:.0f} MiB")
    print(f"speed ratio fan / stock: {fan_rate / stock_rate:.3f} (target >= 0.9)")


def child_options(args):
    options = [
        "--db",
        args.db,
        "--recipients",
        str(args.recipients),
        "--db-host",
        args.db_host,
        "--db-port",
        str(args.db_port),
    ]
    if args.addons_path:
        options += ["--addons-path", args.addons_path]
    if args.db_user:
        options += ["--db-user", args.db_user]
    return options


if __name__ == "__main__":
    main()
