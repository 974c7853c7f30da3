# Shared by scripts/run and scripts/test: finds Odoo and installs the
# project's Python requirements into Odoo's environment. Source it; it
# defines functions and the variables below and runs nothing by itself.
#
# How Odoo is found, first match wins:
#   1. ODOO_PYTHON: the Python interpreter of an environment where Odoo 19 is installed;
#   2. ODOO_PATH: an Odoo 19 source tree, run with python3 (or ODOO_PYTHON);
#   3. python3 on PATH, when it can import odoo;
#   4. the interpreter of an `odoo` command on PATH (a pip or Debian package install).

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ADDONS="freelancer_crm,freelancer_mass_mail,freelancer_wechat,freelancer_campaign"
DB_HOST=${PGHOST:-127.0.0.1}
DB_PORT=${PGPORT:-5432}
DB_USER=${PGUSER:-$(id -un)}

die() {
    echo "error: $*" >&2
    exit 2
}

odoo_importable() {
    "$1" - <<'PY' >/dev/null 2>&1
import odoo.release, sys
sys.exit(0 if odoo.release.version_info[0] == 19 else 1)
PY
}

find_odoo() {
    if [ -n "${ODOO_PATH:-}" ]; then
        [ -d "$ODOO_PATH/odoo" ] || die "ODOO_PATH=$ODOO_PATH has no odoo/ package folder."
        export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"
    fi
    if [ -n "${ODOO_PYTHON:-}" ]; then
        # An explicit choice that does not work is an error, not a hint.
        [ -x "$ODOO_PYTHON" ] || die "ODOO_PYTHON=$ODOO_PYTHON is not an executable file."
        odoo_importable "$ODOO_PYTHON" \
            || die "ODOO_PYTHON=$ODOO_PYTHON cannot import Odoo 19 (is Odoo installed there?)."
        export ODOO_PYTHON
        return 0
    fi
    local candidates=()
    command -v python3 >/dev/null && candidates+=("$(command -v python3)")
    if command -v odoo >/dev/null; then
        local shebang
        shebang=$(head -n 1 "$(command -v odoo)")
        case "$shebang" in
            "#!"*python*) candidates+=("${shebang#\#!}") ;;
        esac
    fi
    local python
    for python in "${candidates[@]}"; do
        python=${python%% *}
        if [ -x "$python" ] && odoo_importable "$python"; then
            ODOO_PYTHON=$python
            export ODOO_PYTHON
            return 0
        fi
    done
    cat >&2 <<'MSG'
error: Odoo 19 was not found.

Install Odoo 19.0 Community and tell these scripts where it is, in one of these ways:
  - set ODOO_PYTHON to the python of the virtual environment Odoo is installed in,
    for example: export ODOO_PYTHON=/opt/odoo-venv/bin/python
  - set ODOO_PATH to an Odoo 19 source tree whose requirements are installed
  - put an `odoo` command (pip or Debian package install) on PATH

To install from source: download Odoo 19.0 Community, then
  python3 -m venv /opt/odoo-venv
  /opt/odoo-venv/bin/pip install -r <odoo-source>/requirements.txt
  /opt/odoo-venv/bin/pip install -e <odoo-source>
See README.md, "Install".
MSG
    exit 2
}

install_requirements() {
    # Installs only what is missing, constrained to the versions already in
    # the environment so that Odoo's pinned packages are never upgraded.
    local missing
    missing=$("$ODOO_PYTHON" - "$PROJECT_ROOT/requirements.txt" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement

for line in open(sys.argv[1], encoding="utf-8"):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    requirement = Requirement(line)
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        print(line)
        continue
    if requirement.specifier and not requirement.specifier.contains(installed, prereleases=True):
        print(line)
PY
    ) || die "cannot read requirements.txt with $ODOO_PYTHON (is the packaging module installed?)"
    [ -z "$missing" ] && return 0
    echo "Installing into Odoo's environment: $(echo "$missing" | tr '\n' ' ')"
    local constraints
    constraints=$(mktemp)
    "$ODOO_PYTHON" -m pip freeze --exclude-editable 2>/dev/null | grep -v '^-e ' >"$constraints"
    # shellcheck disable=SC2086
    "$ODOO_PYTHON" -m pip install --quiet -c "$constraints" $missing \
        || die "pip could not install: $missing"
    rm -f "$constraints"
}

odoo_cmd() {
    "$ODOO_PYTHON" -m odoo "$@" \
        --addons-path="$ODOO_ADDONS_PATH" \
        --db_host="$DB_HOST" --db_port="$DB_PORT" --db_user="$DB_USER" \
        --http-interface=127.0.0.1
}

resolve_addons_path() {
    local core
    core=$("$ODOO_PYTHON" -c 'import odoo.addons, os; print(",".join(p for p in odoo.addons.__path__ if os.path.isdir(p)))')
    ODOO_ADDONS_PATH="$core,$PROJECT_ROOT/addons"
    export ODOO_ADDONS_PATH
}

check_postgres() {
    "$ODOO_PYTHON" - "$DB_HOST" "$DB_PORT" "$DB_USER" <<'PY' || die "PostgreSQL is not reachable at $DB_HOST:$DB_PORT as user $DB_USER (set PGHOST, PGPORT, PGUSER)."
import sys, psycopg2
try:
    psycopg2.connect(host=sys.argv[1], port=sys.argv[2], user=sys.argv[3], dbname="postgres").close()
except psycopg2.OperationalError as error:
    sys.exit(str(error).strip())
PY
}
