"""Dashboards and exports may read a replica; nothing else does, and nothing writes there."""

import json
import os
import subprocess
import sys

from cityhall import dbrouter
from kpis.models import DailyRollup


def test_only_reads_inside_from_replica_go_to_the_replica(monkeypatch):
    router = dbrouter.ReplicaRouter()
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)
    assert router.db_for_read(DailyRollup) == "default"
    with dbrouter.from_replica():
        assert router.db_for_read(DailyRollup) == "replica"
        assert router.db_for_write(DailyRollup) == "default"
    assert router.db_for_read(DailyRollup) == "default"
    assert router.allow_migrate("default", "kpis") and not router.allow_migrate("replica", "kpis")


def test_without_a_replica_everything_reads_the_primary():
    with dbrouter.from_replica():
        assert dbrouter.ReplicaRouter().db_for_read(DailyRollup) == "default"


def _databases(**env) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: {'host': v['HOST'], 'ssc': v.get('DISABLE_SERVER_SIDE_CURSORS')} "
        "for k, v in settings.DATABASES.items()}))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "cityhall.settings.dev", **env}
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_replica_and_the_pooler_are_configured_from_the_environment():
    databases = _databases(
        DATABASE_URL="postgres://app@pgbouncer:6432/cityhall",
        DATABASE_REPLICA_URL="postgres://app@postgres-replica:5432/cityhall",
        DATABASE_TRANSACTION_POOLING="1",
    )
    assert databases == {
        "default": {"host": "pgbouncer", "ssc": True},
        "replica": {"host": "postgres-replica", "ssc": True},
    }
    assert set(_databases(DATABASE_URL="postgres://app@db:5432/cityhall")) == {"default"}
