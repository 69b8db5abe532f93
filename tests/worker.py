"""A real Celery worker process for task tests, against the test database and real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from cityhall.celery import app

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db.get("HOST") or "localhost", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


@contextmanager
def celery_worker(*, concurrency: int = 1, timeout: float = 60):
    """Start `celery worker` as a separate process; yields the Popen; stops it afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityhall.settings.test",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DB_CONN_MAX_AGE": "0",
    }
    log = open(ROOT / ".data" / f"worker-{name.split('@')[0]}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cityhall",
            "worker",
            "-n",
            name,
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "info",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker exited early; see {log.name}")
            if app.control.ping(destination=[name], timeout=0.5):
                break
        else:
            raise RuntimeError(f"worker did not start in {timeout}s; see {log.name}")
        proc.name = name
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        # The worker's connections are gone; the test database can be flushed or dropped.


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def tasks_done(worker, task_name: str) -> int:
    """How many `task_name` tasks the worker has finished."""
    stats = app.control.inspect(destination=[worker.name], timeout=1).stats() or {}
    return stats.get(worker.name, {}).get("total", {}).get(task_name, 0)
