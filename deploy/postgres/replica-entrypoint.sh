#!/usr/bin/env bash
# The read replica: on first start, copy the primary (pg_basebackup -R writes standby.signal and
# the connection to follow it), then run as a hot standby that dashboards and exports read.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -q -h postgres -p 5432; do
    echo "waiting for the primary"; sleep 2
  done
  PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" \
    pg_basebackup --host postgres --username replicator --pgdata "$PGDATA" \
      --wal-method stream --write-recovery-conf --checkpoint fast
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c max_standby_streaming_delay=60s
