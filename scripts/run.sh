#!/usr/bin/env bash
# The embedded default: SQLite in instance/, local media folder, a Celery worker beside the web
# process on a filesystem broker (no server needed), Socket.IO in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELEARN_DEMO=1
export PORT="${PORT:-5000}"
BIN=.venv/bin
# ffmpeg before the seed: the demo courses' video lessons are generated and transcoded by it
bash scripts/system-deps.sh --runtime ||
  echo "warning: could not install ffmpeg/poppler-utils; media processing and the demo videos need them" >&2
$BIN/flask --app app db upgrade heads
$BIN/flask --app app elearn seed --scale demo
$BIN/celery -A app.celery_app worker -B -Q celery,media --pool=solo --loglevel=warning \
  --schedule instance/celerybeat-schedule &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo
echo "  elearn is running at http://127.0.0.1:${PORT}"
echo "  demo logins (password demo1234): pref_admin county_admin school_admin teacher1 student1 parent1 expert1"
echo
$BIN/flask --app app elearn serve --host 127.0.0.1 --port "$PORT"
