#!/usr/bin/env bash
# Runs once, when the primary's data directory is first created (docker-entrypoint-initdb.d):
# the role the read replica streams changes with, allowed to connect for replication only.
# On a database created before this file existed, run the same two steps by hand.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -v password="$POSTGRES_REPLICATION_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
