"""Fetch one account's access token from a separate OS process.

Run by ``test_wechat_api`` as ``python token_worker.py DB ACCOUNT_ID -- ODOO_ARGS``.
It loads its own registry, prints ``ready``, waits for a line on stdin so
that all workers call at the same moment, then prints the token it got.
"""

import sys


def main():
    database, account_id = sys.argv[1], int(sys.argv[2])
    odoo_args = sys.argv[sys.argv.index("--") + 1 :]

    import odoo  # noqa: PLC0415 - imported after argument parsing, as a script
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_args)
    registry = Registry(database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        account = env["wechat.account"].browse(account_id)
        # Reading starts the transaction, so its snapshot predates the race.
        account.read(["app_id"])
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()
        token = account._wechat_get_access_token()
    sys.stdout.write(f"{token}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
