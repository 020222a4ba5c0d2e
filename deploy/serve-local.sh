#!/usr/bin/env bash
# The production-like stack on this machine: gunicorn (gevent, one worker), a Celery worker on the
# default and media queues, and beat; PostgreSQL and Redis on their standard local ports.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/elearn}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export PORT="${PORT:-8000}"
if [ -z "${ELEARN_SECRET_KEY:-}" ]; then
  mkdir -p instance
  [ -f instance/serve_secret ] || $BIN/python -c "import secrets; print(secrets.token_urlsafe(48))" > instance/serve_secret
  ELEARN_SECRET_KEY="$(cat instance/serve_secret)"
  export ELEARN_SECRET_KEY
fi
export ELEARN_COOKIE_SECURE="${ELEARN_COOKIE_SECURE:-0}"   # plain http on localhost
dbname="${DATABASE_URL##*/}"
psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='${dbname}'" | grep -q 1 \
  || psql "${DATABASE_URL%/*}/postgres" -c "CREATE DATABASE \"${dbname}\""
$BIN/flask --app app db upgrade heads            # migrations are a deploy step, never inside create_app
$BIN/celery -A app.celery_app worker -Q celery,media --concurrency 2 --loglevel=info & WORKER=$!
$BIN/celery -A app.celery_app beat --schedule instance/celerybeat-schedule --loglevel=info & BEAT=$!
trap 'kill $WORKER $BEAT 2>/dev/null || true' EXIT INT TERM
echo "elearn (production-like) at http://127.0.0.1:${PORT}"
$BIN/gunicorn -c deploy/gunicorn.conf.py
