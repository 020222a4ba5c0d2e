#!/usr/bin/env bash
# Restore an archive of deploy/backup.sh into an empty (or new) database.
#
#   DATABASE_URL=postgresql://user@host/elearn deploy/restore.sh /var/backups/elearn/elearn-….dump
#
# The database is created when it does not exist. One that already holds tables is refused:
# restoring over live data would mix two states (drop it first, or restore under another name and
# point DATABASE_URL at it). Everything is restored in one transaction: all of it or nothing.
# Then run `flask --app app db upgrade heads` if the code is newer than the backup, and start the
# processes. deploy/README.md, "Backups and restore".
set -euo pipefail

archive="${1:-}"
if [ -z "$archive" ] || [ ! -r "$archive" ]; then
  echo "usage: DATABASE_URL=postgresql://… $0 ARCHIVE.dump (a file deploy/backup.sh wrote)" >&2
  exit 2
fi
url="${ELEARN_DATABASE_URL:-${DATABASE_URL:-}}"
if [ -z "$url" ]; then
  echo "DATABASE_URL (or ELEARN_DATABASE_URL) is not set: which database should be restored?" >&2
  exit 2
fi
url="${url/postgresql+psycopg:\/\//postgresql://}"
name="${url##*/}"
name="${name%%\?*}"
server="${url%/*}"
query=""
case "$url" in *\?*) query="?${url#*\?}" ;; esac

pg_restore --list "$archive" > /dev/null   # a readable archive before touching anything

exists="$(psql "$server/postgres$query" -XtAc "SELECT 1 FROM pg_database WHERE datname = '${name//\'/\'\'}'")"
if [ "$exists" != "1" ]; then
  psql "$server/postgres$query" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"${name//\"/\"\"}\""
else
  tables="$(psql "$url" -XtAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
  if [ "$tables" != "0" ]; then
    echo "the database $name already holds $tables tables: refusing to restore over them" >&2
    exit 1
  fi
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$archive"
echo "restored $archive into $name"
