#!/usr/bin/env bash
# A logical backup of elearn's database: one pg_dump custom-format archive (compressed, restorable
# table by table with pg_restore), checked readable, older ones pruned.
#
#   DATABASE_URL=postgresql://user@host/elearn deploy/backup.sh /var/backups/elearn
#
# It writes DIR/elearn-<UTC time>.dump and prints its path. ELEARN_BACKUP_KEEP (14) dumps are
# kept in DIR, the oldest removed beyond that. The dump is consistent (one snapshot) and does not
# block the app. Restore with deploy/restore.sh. The media bucket and WAL archiving are separate:
# deploy/README.md, "Backups and restore".
set -euo pipefail

dir="${1:-}"
if [ -z "$dir" ]; then
  echo "usage: DATABASE_URL=postgresql://… $0 BACKUP_DIR" >&2
  exit 2
fi
url="${ELEARN_DATABASE_URL:-${DATABASE_URL:-}}"
if [ -z "$url" ]; then
  echo "DATABASE_URL (or ELEARN_DATABASE_URL) is not set: which database should be saved?" >&2
  exit 2
fi
url="${url/postgresql+psycopg:\/\//postgresql://}"   # the app's SQLAlchemy spelling
keep="${ELEARN_BACKUP_KEEP:-14}"

mkdir -p "$dir"
target="$dir/elearn-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT
# --no-owner/--no-privileges: the archive restores under whatever role runs the restore
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$partial" "$url"
pg_restore --list "$partial" > /dev/null   # a readable archive, or fail here rather than at restore
mv "$partial" "$target"

# retention: the newest $keep dumps stay
mapfile -t old < <(ls -1t "$dir"/elearn-*.dump 2>/dev/null | tail -n +"$((keep + 1))")
for path in "${old[@]}"; do
  rm -f -- "$path"
done
echo "$target"
