"""Odoo command-line options and database setup shared by the benchmark scripts."""

import os
import subprocess
import sys

import odoo

ADDONS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "addons"))


def add_database_arguments(parser, default_db):
    """Add --db and the PostgreSQL connection options, defaulting to the PG* variables."""
    parser.add_argument("--db", default=default_db)
    parser.add_argument("--db-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--db-port", default=os.environ.get("PGPORT", "5432"))
    parser.add_argument("--db-user", default=os.environ.get("PGUSER"))


def odoo_options(args, addons_path=None, smtp_port=None):
    """Return Odoo's options for the database of ``args``, bound to 127.0.0.1."""
    if not addons_path:
        core = ",".join(path for path in odoo.addons.__path__ if os.path.isdir(path))
        addons_path = f"{core},{ADDONS}"
    options = [
        f"--addons-path={addons_path}",
        f"--db_host={args.db_host}",
        f"--db_port={args.db_port}",
        "--http-interface=127.0.0.1",
        "--log-level=warn",
    ]
    if smtp_port:
        options += ["--smtp=127.0.0.1", f"--smtp-port={smtp_port}"]
    if args.db_user:
        options.append(f"--db_user={args.db_user}")
    return options


def install_module(args, module, addons_path=None):
    """Install ``module`` without demo data in ``args.db``; a no-op when it is installed."""
    command = [
        *(sys.executable, "-m", "odoo", *odoo_options(args, addons_path), "-d", args.db),
        *("-i", module, "--without-demo", "--stop-after-init", "--no-http"),
    ]
    subprocess.run(command, check=True)
