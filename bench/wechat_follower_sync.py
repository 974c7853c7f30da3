"""Time the WeChat follower sync against a one-call-per-follower sync.

Creates the database (default ``fcw_bench_wechat``) with ``freelancer_wechat``
on first use, starts the fake WeChat API of the addon's tests on 127.0.0.1
with ``--followers`` followers, and times:

- the batched sync (``wechat.account._wechat_sync_followers``: ``user/get``
  pages of 10,000, ``user/info/batchget`` of 100, fans created per page);
- a naive sync on ``--loop-sample`` other followers: one ``user/info`` call
  and one find-or-create per follower, extrapolated linearly to all
  followers.

Every run uses new OpenIDs and UnionIDs, so it creates all fans anew.
"""

import argparse
import os
import sys
import time

from odoo_bench import ADDONS, add_database_arguments, install_module, odoo_options

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ADDONS, "freelancer_wechat", "tests"))

from fake_wechat_api import FakeWechatApi  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_database_arguments(parser, "fcw_bench_wechat")
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument(
        "--loop-sample", type=int, default=1_000, help="followers timed in the naive sync"
    )
    return parser.parse_args()


def ensure_database(args):
    install_module(args, "freelancer_wechat")


def create_account(env, fake, run_id, label):
    account = env["wechat.account"].create(
        {
            "name": f"Bench {label} {run_id}",
            "app_id": fake.app_id,
            "app_secret": fake.secret,
            "account_type": "service",
            "is_verified": True,
            "api_base_url": fake.base_url,
        }
    )
    env.cr.commit()
    return account


def naive_sync(env, account, openids):
    """Fetch and store followers one by one, as a module without batching would."""
    client = account._wechat_client()
    Partner = env["res.partner"]
    for openid in openids:
        user = client.user.get(openid)
        partner = Partner._wechat_find_or_create_fan(account, openid, user.get("unionid") or "")
        if partner.consent_wechat != "granted":
            partner._fan_record_consent(
                "wechat", "grant", "wechat_follow", address=openid, proof="follower sync"
            )
    env.cr.commit()


def main():
    args = parse_args()
    ensure_database(args)
    config.parse_config(odoo_options(args))
    registry = Registry(args.db)
    run_id = time.strftime("%H%M%S")

    with FakeWechatApi(app_id=f"wxbenchsync{run_id}", secret="bench-secret") as fake:
        fake.add_followers(args.followers, prefix=f"oS{run_id}", unionid_prefix=f"uS{run_id}")
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = create_account(env, fake, run_id, "batched")
            started = time.perf_counter()
            finished = account._wechat_sync_followers()
            batched = time.perf_counter() - started
            calls = dict(fake.calls)
        if not finished:
            sys.exit("the batched sync did not finish; see the log above")

    with FakeWechatApi(app_id=f"wxbenchloop{run_id}", secret="bench-secret") as fake:
        openids = fake.add_followers(
            args.loop_sample, prefix=f"oL{run_id}", unionid_prefix=f"uL{run_id}"
        )
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = create_account(env, fake, run_id, "naive")
            started = time.perf_counter()
            naive_sync(env, account, openids)
            sample = time.perf_counter() - started
    naive = sample / args.loop_sample * args.followers

    print(f"followers:               {args.followers}")
    pages = calls.get("/cgi-bin/user/get", 0)
    batches = calls.get("/cgi-bin/user/info/batchget", 0)
    print(
        f"batched sync:            {batched:8.1f} s  ({pages} user/get, {batches} batchget calls)"
    )
    print(f"naive sync sample:       {sample:8.1f} s for {args.loop_sample} followers")
    print(f"naive sync extrapolated: {naive:8.1f} s for {args.followers} followers (estimate)")
    print(f"ratio naive / batched:   {naive / batched:8.1f}")


if __name__ == "__main__":
    main()
