"""Benchmark: set-based fan score recompute against a per-record ORM loop.

Generates fans and interactions in a dedicated database with freelancer_crm
installed (created on the first run), then, in the same process:

1. times the set-based full recompute (`res.partner._cron_fan_recompute_all`);
2. times a per-record ORM loop computing the same score and tier for a
   sample of fans, and extrapolates it to all fans;
3. times the live count of a segment over all fans.

It prints the speed ratio (loop / set-based; target at least 20) and the
Python peak memory of each phase. Run it with the Python that runs Odoo:

    $ODOO_PYTHON bench/crm_recompute.py --partners 100000 --interactions 1000000
"""

import argparse
import math
import time
import tracemalloc

from odoo_bench import add_database_arguments, install_module, odoo_options

from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.tools import config


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_database_arguments(parser, "freelancer_bench")
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=2_000, help="fans timed in the ORM loop")
    return parser.parse_args()


def ensure_database(args):
    install_module(args, "freelancer_crm")


def generate(env, partners, interactions):
    """Insert fans and interactions in bulk, unless the database already has them."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM res_partner WHERE is_fan AND name LIKE 'bench-%'")
    if cr.fetchone()[0] >= partners:
        return False
    company = env.ref("base.main_company").id
    cr.execute(
        """
        INSERT INTO res_partner (name, complete_name, is_fan, active, company_id, type,
                                 email, email_normalized, create_date, write_date)
        SELECT 'bench-' || n, 'bench-' || n, TRUE, TRUE, %s, 'contact',
               'bench' || n || '@example.com', 'bench' || n || '@example.com', now(), now()
          FROM generate_series(1, %s) AS n
        """,
        [company, partners],
    )
    cr.execute("SELECT min(id), max(id) FROM res_partner WHERE name LIKE 'bench-%'")
    first, last = cr.fetchone()
    types = [
        "email_open", "email_click", "email_reply", "wechat_follow", "wechat_message",
        "wechat_menu", "sms_reply", "purchase", "website",
    ]  # fmt: skip
    cr.execute(
        """
        INSERT INTO fan_interaction (partner_id, interaction_type, channel, date, amount,
                                     create_date, write_date)
        SELECT %(first)s + floor(random() * (%(last)s - %(first)s + 1))::int,
               (%(types)s)[1 + floor(random() * %(count)s)::int],
               'offline',
               now() - random() * interval '365 days',
               CASE WHEN random() < 0.05 THEN round((random() * 400)::numeric, 2) ELSE 0 END,
               now(), now()
          FROM generate_series(1, %(interactions)s)
        """,
        {
            "first": first,
            "last": last,
            "types": types,
            "count": len(types),
            "interactions": interactions,
        },
    )
    cr.execute(
        """
        INSERT INTO fan_consent (partner_id, channel, action, source, date, create_date, write_date)
        SELECT id, 'email', 'grant', 'import', now(), now(), now()
          FROM res_partner WHERE name LIKE 'bench-%' AND mod(id, 3) <> 0
        """
    )
    cr.execute(
        "UPDATE res_partner SET consent_email = 'granted' "
        "WHERE name LIKE 'bench-%' AND mod(id, 3) <> 0"
    )
    cr.execute("ANALYZE res_partner; ANALYZE fan_interaction; ANALYZE fan_consent")
    cr.commit()
    return True


def orm_loop(env, partners):
    """Compute score and tier one fan at a time through the ORM, as a naive module would."""
    params = env["res.partner"]._fan_score_parameters()
    weights = {rule.interaction_type: rule.weight for rule in env["fan.score.rule"].search([])}
    tiers = env["fan.tier"].search([("is_dormant", "=", False)], order="min_score desc")
    dormant = env["fan.tier"].search([("is_dormant", "=", True)], limit=1)
    now = fields.Datetime.now()
    cutoff = fields.Datetime.subtract(now, days=params["dormant_days"])
    for partner in partners:
        score, last = 0.0, None
        for interaction in partner.fan_interaction_ids:
            age_days = max((now - interaction.date).total_seconds(), 0) / 86400.0
            decay = math.pow(0.5, age_days / params["half_life"])
            base = weights.get(interaction.interaction_type, 0)
            score += (base + interaction.amount * params["money_weight"]) * decay
            last = max(last, interaction.date) if last else interaction.date
        if last and last < cutoff and dormant:
            tier = dormant
        else:
            tier = next((t for t in tiers if t.min_score <= score), tiers[-1:])
        partner.write({"fan_score": round(score, 2)})
        env.cr.execute(
            "UPDATE res_partner SET fan_tier_id = %s WHERE id = %s", [tier.id, partner.id]
        )
        partner.invalidate_recordset()
    env.flush_all()


def measure(function):
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, result


def main():
    args = parse_args()
    ensure_database(args)
    config.parse_config([*odoo_options(args), "-d", args.db])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        start = time.perf_counter()
        if generate(env, args.partners, args.interactions):
            print(f"generated {args.partners} fans and {args.interactions} interactions "
                  f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
        Partner = env["res.partner"]
        fans = Partner.search([("is_fan", "=", True), ("name", "like", "bench-")])
        print(f"fans: {len(fans)}")

        set_seconds, set_peak, _ = measure(Partner._cron_fan_recompute_all)
        cr.commit()
        print(
            f"set-based full recompute: {set_seconds:.2f} s, Python peak {set_peak / 2**20:.1f} MiB"
        )

        sample = fans[: args.loop_sample]
        loop_seconds, loop_peak, _ = measure(lambda: orm_loop(env, sample))
        cr.rollback()
        per_fan = loop_seconds / len(sample)
        loop_total = per_fan * len(fans)
        print(
            f"ORM loop: {loop_seconds:.2f} s for {len(sample)} fans, "
            f"{loop_total:.1f} s extrapolated to {len(fans)}, "
            f"Python peak {loop_peak / 2**20:.1f} MiB"
        )

        segment = env["fan.segment"].create(
            {"name": "bench", "min_tier_id": env.ref("freelancer_crm.fan_tier_regular").id}
        )
        count_seconds, _peak, _ = measure(lambda: (segment.partner_count, segment.email_count))
        cr.rollback()
        ratio = loop_total / set_seconds
        print(f"segment count over {len(fans)} fans (2 counts): {count_seconds:.3f} s")
        print(f"speed ratio, ORM loop / set-based: {ratio:.1f} (target >= 20)")
        print(f"segment count under 1 s: {'yes' if count_seconds < 1 else 'no'}")


if __name__ == "__main__":
    main()
