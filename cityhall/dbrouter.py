"""Reads that may come from a read replica: dashboards and exports, and nothing else.

A replica lags the primary by a moment, so a page that has just written (or a resident checking
the status of what they just sent) must read the primary. Only code that says so reads the
replica, inside `from_replica()`; everything else, and every write, goes to "default". Without
DATABASE_REPLICA_URL there is no "replica" and everything reads the primary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_on_replica: ContextVar[bool] = ContextVar("cityhall_on_replica", default=False)

REPLICA = "replica"


@contextmanager
def from_replica() -> Iterator[None]:
    """Reads inside this block go to the replica, when there is one."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _on_replica.get() and replica_configured():
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
