#!/usr/bin/env bash
# Install (if needed), migrate, and serve Photocloud at http://127.0.0.1:8000 with one background worker.
# Embedded defaults: SQLite and files under ./data. Every setting comes from the environment (DATABASE_URL,
# PHOTOCLOUD_*; see README.md), which is passed through unchanged.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install.sh

PC=.venv/bin/photocloud
echo "[start] applying database migrations"
"$PC" migrate --noinput
echo "[start] collecting static files"
"$PC" collectstatic --noinput --verbosity 0

host="${PHOTOCLOUD_HOST:-127.0.0.1}"
port="${PHOTOCLOUD_PORT:-8000}"
cat <<EOF

  Photocloud: http://${host}:${port}/
  Database:   ${DATABASE_URL:-SQLite in ${PHOTOCLOUD_DATA_DIR:-./data}}
  Admin user: run '.venv/bin/photocloud createsuperuser' in $(pwd) (from another terminal)
  Stop with Ctrl-C.

EOF
exec "$PC" serve "$@"
