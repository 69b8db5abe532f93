"""`manage.py bench_scale_data [--scale 1.0] [--force]`: fill the database with a city-size
dataset for benchmarks (see cityhall.benchscale), fast, with set-based SQL.

Cached: a second run at the same or a smaller scale says "already built" and returns at once.
A larger scale, or `--force`, deletes the generated rows (never the demo's) and builds again.
The demo data is loaded first if the reference data (types, categories, places, staff) is missing.
"""

from __future__ import annotations

import time
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cityhall.benchscale import Plan, build, built_scale, purge
from cityhall.benchscale.dataset import recorded_ranges, reference_missing


class Command(BaseCommand):
    help = "Build (once) a city-size benchmark dataset: a million service requests at --scale 1."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="1.0: 60,000 residents, 1,000,000 requests, 200,000 permits (default 1.0).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Delete the generated rows and build again."
        )

    def handle(self, *args, scale: float, force: bool, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "The benchmark dataset is never built under production settings: its accounts "
                "share one published password."
            )
        if not 0 < scale <= 10:
            raise CommandError("--scale must be more than 0 and at most 10.")
        started = time.monotonic()
        built = built_scale()
        if built is not None and built >= scale and not force:
            self.stdout.write(
                f"already built at scale {built:g} (--force to rebuild); checked in "
                f"{time.monotonic() - started:.1f}s"
            )
            return
        if reference_missing():
            self.stdout.write("loading the demo's reference data first")
            call_command("load_demo", stdout=StringIO())
        if recorded_ranges():
            self.stdout.write("deleting the previous benchmark rows")
            purge(log=self.stdout.write)
        plan = Plan.at(scale)
        self.stdout.write(
            f"building at scale {scale:g}: {plan.residents:,} residents, {plan.requests:,} "
            f"requests, {plan.permits:,} applications, {plan.subscriptions:,} subscriptions, "
            f"{plan.cases:,} cases"
        )
        report = build(plan, log=self.stdout.write)
        self.stdout.write(f"\n{'table':<36}{'rows':>12}{'step seconds':>14}")
        for table, (count, seconds) in report.items():
            if table != "households":
                self.stdout.write(f"{table:<36}{count:>12,}{seconds:>14.1f}")
        self.stdout.write(
            self.style.SUCCESS(f"built at scale {scale:g} in {time.monotonic() - started:.1f}s")
        )
