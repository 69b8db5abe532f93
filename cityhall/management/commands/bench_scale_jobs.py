"""`make bench-scale`: time beat's daily and hourly jobs once each, in-process, over the data.

The jobs are the crontab entries of CELERY_BEAT_SCHEDULE (the every-minute alert jobs are not
nightly work and are left out); each task is called directly, as the worker would run it. They
change data (reminders sent, permits expired, renewals created), so `make bench-scale` runs
this after measuring the pages. With --rollback each job runs inside a transaction that is
rolled back: the dataset stays as it was, but the jobs' many small commits become savepoints and
nothing they would enqueue is sent to the broker, so the timings are somewhat optimistic.
"""

from __future__ import annotations

import json
import time
from importlib import import_module

from celery.schedules import crontab
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

# The hourly KPI roll-up has a tighter budget than the nightly jobs.
BUDGETS = {"kpis.tasks.rollup_today": 5.0}
NIGHTLY_BUDGET = 60.0


class _Rollback(Exception):
    pass


def _describe(schedule) -> str:
    if isinstance(schedule, crontab):
        return f"cron {schedule._orig_minute} {schedule._orig_hour}"
    return f"every {schedule}s"


def _task(name: str):
    module, _dot, attribute = name.rpartition(".")
    return getattr(import_module(module), attribute)


class Command(BaseCommand):
    help = "Time each daily/hourly beat job once (table, or JSON with --json)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("--rollback", action="store_true", help="Undo each job's changes.")
        parser.add_argument("--only", nargs="*", default=None, help="Beat entry names to run.")
        parser.add_argument(
            "--match",
            default="",
            help="Only entries whose task name contains this, interval entries included.",
        )

    def handle(self, *args, as_json: bool, rollback: bool, only, match: str, **options):
        rows = []
        for key, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = entry["schedule"]
            if match:
                if match not in entry["task"]:
                    continue
            elif not isinstance(schedule, crontab) or (only and key not in only):
                continue
            task = _task(entry["task"])
            hourly = isinstance(schedule, crontab) and schedule._orig_hour == "*"
            row = {
                "job": key,
                "task": entry["task"],
                "schedule": _describe(schedule),
                "hourly": hourly,
                "budget_s": BUDGETS.get(entry["task"], NIGHTLY_BUDGET),
                "seconds": None,
                "result": None,
                "error": "",
            }
            start = time.perf_counter()
            try:
                if rollback:
                    try:
                        with transaction.atomic():
                            row["result"] = task()
                            raise _Rollback
                    except _Rollback:
                        pass
                else:
                    row["result"] = task()
            except Exception as error:
                row["error"] = f"{type(error).__name__}: {error}"[:300]
            row["seconds"] = round(time.perf_counter() - start, 3)
            row["ok"] = not row["error"] and row["seconds"] <= row["budget_s"]
            if not isinstance(row["result"], (int, float, str, type(None))):
                row["result"] = repr(row["result"])[:120]
            rows.append(row)
            if not as_json:
                self.stdout.write(
                    f"{key:<28} {row['seconds']:>9.3f} s  result={row['result']!s:<12} "
                    f"{'ok' if row['ok'] else 'OVER'} (budget {row['budget_s']:.0f} s)"
                    + (f"  {row['error']}" if row["error"] else "")
                )
        if as_json:
            self.stdout.write(json.dumps(rows))
