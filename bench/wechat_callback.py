"""Time the WeChat callback of Odoo against a bare WSGI app doing the same parsing.

Creates the database (default ``fcw_bench_wechat``) with ``freelancer_wechat``
on first use, adds a plain-mode Official Account with keyword rules, then
starts on free ports of 127.0.0.1:

- Odoo with ``--workers`` worker processes, by default Odoo's rule of 2
  per core plus 1 (a subprocess, no cron threads);
- a bare werkzeug WSGI app (a subprocess, threaded) that checks the
  signature, parses the message with wechatpy, matches the keyword and
  renders the same text reply, without a database.

Both receive the same signed text messages from ``--concurrency`` client
threads; the script prints p50 and p99 latency of each and their ratio.
Each message in Odoo is a new MsgId, so it is logged, linked to a fan and
replied to, as in production.
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from odoo_bench import add_database_arguments, install_module, odoo_options

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "benchToken123"
NONCE = "benchnonce"
# Ports this benchmark may use; the first free ones are taken.
PORT_RANGE = range(8170, 8180)

BARE_APP = r"""
import sys
from wechatpy import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

TOKEN = sys.argv[2]
RULES = {"课程": "Classes run on Tuesdays.", "报名": "Sign up at the front desk."}


@Request.application
def app(request):
    args = request.args
    check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
    message = parse_message(request.get_data(as_text=True))
    text = RULES.get(getattr(message, "content", ""), "We got your message")
    reply = TextReply(message=message, content=text).render()
    return Response(reply, content_type="application/xml; charset=utf-8")


make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True).serve_forever()
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_database_arguments(parser, "fcw_bench_wechat")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="requests per target")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per target")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="Odoo HTTP worker processes (default: Odoo's rule, 2 per core plus 1)",
    )
    return parser.parse_args()


def free_ports(count):
    ports = []
    for port in PORT_RANGE:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                ports.append(port)
        if len(ports) == count:
            return ports
    sys.exit(f"fewer than {count} free ports in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")


def ensure_database(args):
    install_module(args, "freelancer_wechat")


def ensure_account(args):
    """Return the id of the benchmark account, created with two keyword rules."""
    config.parse_config(odoo_options(args))
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = env["wechat.account"].search([("app_id", "=", "wxbenchcallback01")])
        if not account:
            account = env["wechat.account"].create(
                {
                    "name": "Bench Callback",
                    "app_id": "wxbenchcallback01",
                    "token": TOKEN,
                    "api_base_url": "http://127.0.0.1:9/",
                    "default_reply": "We got your message",
                    "reply_rule_ids": [
                        (0, 0, {"keyword": "课程", "reply_text": "Classes run on Tuesdays."}),
                        (0, 0, {"keyword": "报名", "reply_text": "Sign up at the front desk."}),
                    ],
                }
            )
        return account.id


def wait_until_up(url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP response means the server is listening
        except OSError:
            time.sleep(0.5)
    sys.exit(f"server at {url} did not start within {timeout} s")


def signed_url(base):
    from wechatpy.utils import WeChatSigner  # noqa: PLC0415

    timestamp = str(int(time.time()))
    signer = WeChatSigner()
    signer.add_data(TOKEN, timestamp, NONCE)
    return f"{base}?signature={signer.signature}&timestamp={timestamp}&nonce={NONCE}"


class Load:
    """Send numbered text messages from several threads and record latencies."""

    def __init__(self, base, total, concurrency, first_msg_id):
        self.base = base
        self.total = total
        self.concurrency = concurrency
        self.next_index = 0
        self.first_msg_id = first_msg_id
        self.lock = threading.Lock()
        self.latencies = []
        self.errors = 0

    def take(self):
        with self.lock:
            if self.next_index >= self.total:
                return None
            self.next_index += 1
            return self.next_index

    def worker(self):
        while (index := self.take()) is not None:
            openid = f"oBenchFan{index % 500:019d}"
            content = ("课程", "报名", "hello")[index % 3]
            body = (
                "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime>"
                "<MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{content}]]></Content>"
                f"<MsgId>{self.first_msg_id + index}</MsgId></xml>"
            ).encode()
            request = urllib.request.Request(
                signed_url(self.base), data=body, headers={"Content-Type": "text/xml"}
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            with self.lock:
                if ok:
                    self.latencies.append(elapsed)
                else:
                    self.errors += 1

    def run(self):
        threads = [threading.Thread(target=self.worker) for _index in range(self.concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def measure(name, base, args, first_msg_id):
    Load(base, args.warmup, args.concurrency, first_msg_id).run()
    load = Load(base, args.requests, args.concurrency, first_msg_id + args.warmup)
    duration = load.run()
    if not load.latencies:
        sys.exit(f"{name}: every request failed")
    p50 = percentile(load.latencies, 0.50) * 1000
    p99 = percentile(load.latencies, 0.99) * 1000
    print(
        f"{name:<22} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
        f"mean {statistics.fmean(load.latencies) * 1000:7.1f} ms  "
        f"{len(load.latencies) / duration:7.1f} req/s  errors {load.errors}"
    )
    return p50, p99


def main():
    args = parse_args()
    ensure_database(args)
    account_id = ensure_account(args)
    odoo_port, gevent_port, bare_port = free_ports(3)
    first_msg_id = int(time.time() * 1000) * 1000

    # The odoo script, not "python -m odoo": with --workers, Odoo starts its
    # gevent process by running its own command line again, which fails for -m.
    odoo_script = os.path.join(os.path.dirname(sys.executable), "odoo")
    if not os.path.exists(odoo_script):
        odoo_script = shutil.which("odoo")
    odoo_server = subprocess.Popen(
        [
            # A database name without --db-filter, as on a single-database
            # server: with a filter, Odoo lists the databases, through a new
            # PostgreSQL connection, on every request without a session.
            *(sys.executable, odoo_script, *odoo_options(args), "-d", args.db),
            *("--workers", str(args.workers), "--max-cron-threads", "0"),
            f"--http-port={odoo_port}",
            f"--gevent-port={gevent_port}",
        ]
    )
    bare_server = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(bare_port), TOKEN], stderr=subprocess.DEVNULL
    )
    try:
        odoo_base = f"http://127.0.0.1:{odoo_port}/wechat/callback/{account_id}"
        bare_base = f"http://127.0.0.1:{bare_port}/wechat"
        wait_until_up(f"http://127.0.0.1:{odoo_port}/web/login")
        wait_until_up(signed_url(bare_base) + "&echostr=x")
        print(f"{args.requests} requests per target, {args.concurrency} concurrent clients")
        odoo_p50, odoo_p99 = measure(
            f"Odoo (--workers {args.workers})", odoo_base, args, first_msg_id
        )
        bare_p50, bare_p99 = measure("bare werkzeug app", bare_base, args, first_msg_id)
        p50_ratio = odoo_p50 / bare_p50
        p99_ratio = odoo_p99 / bare_p99
        print(f"ratio Odoo / bare:     p50 {p50_ratio:5.1f}x  p99 {p99_ratio:5.1f}x")
    finally:
        for server in (odoo_server, bare_server):
            server.terminate()
        for server in (odoo_server, bare_server):
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
