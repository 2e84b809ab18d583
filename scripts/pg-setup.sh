#!/usr/bin/env bash
# Installs (Debian), starts and prepares a local PostgreSQL for Lathe's PostgreSQL tests, idempotently.
# Prints the line to export: LATHE_TEST_DATABASE_URL=postgres://lathe:lathe@127.0.0.1:5432/lathe_test
# Used by .ci/run and by developers (run as root or with sudo available).
set -euo pipefail

DB_NAME="${LATHE_PG_DB:-lathe_test}"
DB_USER="${LATHE_PG_USER:-lathe}"
DB_PASS="${LATHE_PG_PASSWORD:-lathe}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL is missing: installing Debian's postgresql package." >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

# Start every cluster that is down (Debian creates one, e.g. 15/main, on install).
pg_lsclusters --no-header | while read -r ver name port status _rest; do
  if [ "$status" != "online" ]; then as_root pg_ctlcluster "$ver" "$name" start; fi
done
PORT="$(pg_lsclusters --no-header | awk 'NR==1 {print $3}')"

for _ in $(seq 1 50); do
  as_postgres psql -p "$PORT" -qAtc 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done

as_postgres psql -p "$PORT" -v ON_ERROR_STOP=1 -qAt <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
    CREATE ROLE ${DB_USER} LOGIN PASSWORD '${DB_PASS}' CREATEDB;
  END IF;
END \$\$;
SQL
if ! as_postgres psql -p "$PORT" -qAtc "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'" | grep -q 1; then
  as_postgres createdb -p "$PORT" -O "$DB_USER" "$DB_NAME"
fi

echo "LATHE_TEST_DATABASE_URL=postgres://${DB_USER}:${DB_PASS}@127.0.0.1:${PORT}/${DB_NAME}"
