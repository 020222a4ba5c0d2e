#!/usr/bin/env bash
# The embedded default: SQLite in instance/, a local media folder, a Celery worker (with beat)
# beside the web process on a filesystem broker (no server needed), Socket.IO in one gunicorn
# process with the gevent WebSocket worker, as production runs it. What each step prints goes to
# instance/*.log; the terminal shows the URL and the demo logins.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELEARN_DEMO=1
export PORT="${PORT:-5000}"
BIN=.venv/bin
mkdir -p instance
LOG=instance/run.log
: >"$LOG"

step() {
  local what=$1
  shift
  printf '  %s… ' "$what"
  if "$@" >>"$LOG" 2>&1; then
    echo "done"
  else
    echo "failed"
    echo "  The last lines of $LOG:" >&2
    tail -n 30 "$LOG" | sed 's/^/    /' >&2
    exit 1
  fi
}

echo "Preparing the demo (the first run takes about two minutes)"
# ffmpeg before the seed: the demo courses' video lessons are generated and transcoded by it
if ! bash scripts/system-deps.sh --runtime >>"$LOG" 2>&1; then
  echo "  warning: could not install ffmpeg/poppler-utils; media processing and the demo videos need them" >&2
fi
step "database schema" $BIN/flask --app app db upgrade heads
step "demo data (schools, classes, courses with video, a quiz, a lecture)" \
  $BIN/flask --app app elearn seed --scale demo

PIDS=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # the worker finishes the task in hand first (a warm shutdown); a demo need not wait long
  for _ in $(seq 1 20); do
    kill -0 "${PIDS[@]}" 2>/dev/null || break
    sleep 0.5
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "  elearn stopped."
}
trap cleanup EXIT INT TERM

# each in its own session: Ctrl+C reaches this script alone, which stops them in order
setsid $BIN/celery -A app.celery_app worker -B -Q celery,media --pool=solo --loglevel=warning \
  --schedule instance/celerybeat-schedule >instance/worker.log 2>&1 &
PIDS+=($!)
ELEARN_BIND="127.0.0.1:${PORT}" setsid $BIN/gunicorn -c deploy/gunicorn.conf.py \
  --access-logfile instance/access.log --error-logfile instance/web.log &
PIDS+=($!)

URL="http://127.0.0.1:${PORT}"
for _ in $(seq 1 120); do
  if $BIN/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
    "$URL/healthz" 2>/dev/null; then
    break
  fi
  if ! kill -0 "${PIDS[1]}" 2>/dev/null; then
    echo "  The web process did not start. The last lines of instance/web.log:" >&2
    tail -n 30 instance/web.log | sed 's/^/    /' >&2
    exit 1
  fi
  sleep 0.5
done

cat <<BANNER

  elearn is running at ${URL}

  Sign in with any of these demo accounts; the password of each is demo1234:
$(sed -n '/^Demo data ready/,$p' "$LOG" | tail -n +2 | sed 's/^/  /')

  Stop it with Ctrl+C. Logs: instance/web.log, instance/worker.log, instance/run.log
BANNER
wait "${PIDS[1]}"
