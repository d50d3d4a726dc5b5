#!/usr/bin/env bash
# Install Photocloud into ./.venv: Debian packages it needs (when possible), a Python 3.11 virtualenv, and the
# pinned dependencies from pyproject.toml. Idempotent: a second run with nothing changed needs no network.
# Database migrations are not done here (scripts/start.sh runs them).
#
# Environment:
#   PYTHON=/path/to/python3.11   interpreter to build the virtualenv with (default: python3.11, then python3)
#   PHOTOCLOUD_REINSTALL=1       reinstall the Python packages even if nothing changed
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"

say() { printf '[install] %s\n' "$*"; }
warn() { printf '[install] WARNING: %s\n' "$*" >&2; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Debian packages ---------------------------------------------------------------------------------------
# chromium: the browser for the end-to-end tests; libmariadb-dev + pkg-config: to build mysqlclient;
# fonts-dejavu-core: fonts for rendering pages (and text in images); libimage-exiftool-perl: ExifTool, the reference
# the metadata agreement test (bench/metadata.py) compares Photocloud's metadata with; nodejs + npm: to install
# axe-core, the accessibility checker the end-to-end tests inject into the pages (npm only when no npm command is
# there: Node.js from another source, such as NodeSource, brings its own).
APT_PACKAGES=(chromium libmariadb-dev pkg-config fonts-dejavu-core libimage-exiftool-perl nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)
if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            say "installing Debian packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; }; then
                [[ "${CI:-}" == true || "${CI:-}" == 1 ]] && die "apt-get could not install: ${missing[*]}"
                warn "apt-get could not install: ${missing[*]}; continuing without them"
            fi
        else
            warn "missing Debian packages: ${missing[*]} (not root or no apt-get; install them with:" \
                 "sudo apt-get install ${missing[*]})"
        fi
    else
        say "Debian packages present: ${APT_PACKAGES[*]}"
    fi
else
    warn "not a Debian system: make sure Chromium and the MariaDB client headers are installed"
fi

# --- Python 3.11 ---------------------------------------------------------------------------------------------
is_py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

if [[ -x "$VENV/bin/python" ]] && is_py311 "$VENV/bin/python"; then
    say "using existing virtualenv $VENV ($("$VENV/bin/python" --version))"
else
    PY=""
    for candidate in ${PYTHON:-} python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_py311 "$candidate"; then PY="$candidate"; break; fi
    done
    [[ -n "$PY" ]] || die "Python 3.11 is required (Photocloud pins Django 5.2 and CPU torch for 3.11)," \
        "but neither python3.11 nor python3 is Python 3.11. Install it (e.g. 'pyenv install 3.11')" \
        "or point PYTHON=/path/to/python3.11 at it."
    [[ -e "$VENV" ]] && { say "removing $VENV (not a Python 3.11 virtualenv)"; rm -rf "$VENV"; }
    say "creating virtualenv $VENV with $(command -v "$PY") ($("$PY" --version))"
    "$PY" -m venv "$VENV" || die "could not create the virtualenv (on Debian: apt-get install python3.11-venv)"
    rm -f "$VENV/.photocloud-installed"
fi

# --- Python packages -----------------------------------------------------------------------------------------
# Skipped when pyproject.toml has not changed since the last successful install (the stamp holds its hash) and
# the virtualenv still imports this checkout's photocloud package.
STAMP="$VENV/.photocloud-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
healthy() {
    [[ -x "$VENV/bin/photocloud" ]] && [[ "$("$VENV/bin/python" -c 'import django, photocloud; print(photocloud.__path__[0])' 2>/dev/null)" == "$ROOT/photocloud" ]]
}
# pip, without the "Location 'file:///...' is ignored" lines a find-links/index folder in the machine's pip
# configuration can produce for every package; pip's exit status is kept.
pip_install() {
    "$VENV/bin/python" -m pip install --quiet "$@" 2>&1 | { grep -v "^WARNING: Location 'file:.*' is ignored" || true; }
    return "${PIPESTATUS[0]}"
}
mysql_headers() { pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null; }

if [[ "${PHOTOCLOUD_REINSTALL:-0}" != 1 && "$have" == "$want" ]] && healthy; then
    say "Python packages up to date (pyproject.toml unchanged since the last install)"
elif [[ "${PHOTOCLOUD_REINSTALL:-0}" != 1 && "$have" == "$want-nomysql" ]] && healthy && ! mysql_headers; then
    warn "Python packages up to date, but WITHOUT mysqlclient (MariaDB headers still missing)"
else
    say "upgrading pip"
    pip_install --upgrade pip || warn "could not upgrade pip; continuing with $("$VENV/bin/python" -m pip --version | cut -d' ' -f1-2)"
    say "installing photocloud and its pinned dependencies: pip install -e '.[test,mysql,redis]'"
    if pip_install -e ".[test,mysql,redis]"; then
        echo "$want" >"$STAMP"
    else
        warn "installing with the 'mysql' extra failed: mysqlclient needs the Debian packages libmariadb-dev and"
        warn "pkg-config to build. Installing without MySQL/MariaDB support."
        pip_install -e ".[test,redis]" || die "pip install -e '.[test,redis]' failed"
        echo "$want-nomysql" >"$STAMP"
        warn "Photocloud is installed WITHOUT mysqlclient: DATABASE_URL=mysql://... will not work until" \
             "libmariadb-dev and pkg-config are installed and this script runs again."
    fi
fi

# --- axe-core (npm) -------------------------------------------------------------------------------------------
# The accessibility rules the end-to-end tests run in Chromium (tests/e2e/ui.py finds it in $VENV/node). Pinned;
# skipped when that version is already there.
AXE_VERSION=4.14.1
AXE_DIR="$VENV/node"
if [[ "$(cat "$AXE_DIR/node_modules/axe-core/package.json" 2>/dev/null | grep -o '"version": *"[^"]*"' | grep -o '[0-9][^"]*')" == "$AXE_VERSION" ]]; then
    say "axe-core $AXE_VERSION present"
elif command -v npm >/dev/null 2>&1; then
    say "installing axe-core $AXE_VERSION into $AXE_DIR"
    if ! npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >/dev/null; then
        [[ "${CI:-}" == true || "${CI:-}" == 1 ]] && die "npm could not install axe-core@$AXE_VERSION"
        warn "npm could not install axe-core@$AXE_VERSION; the accessibility tests will fail until it is installed"
    fi
else
    [[ "${CI:-}" == true || "${CI:-}" == 1 ]] && die "npm is missing: it installs axe-core for the accessibility tests"
    warn "npm is missing (apt-get install nodejs npm): the accessibility tests need axe-core@$AXE_VERSION"
fi

say "ready: $("$VENV/bin/python" --version), Django $("$VENV/bin/python" -c 'import django; print(django.get_version())') in $VENV"
