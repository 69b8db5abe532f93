from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from kpis.rollups import rollup_days, sealed_through


class Command(BaseCommand):
    help = "Recompute the daily KPI roll-ups for the past N days (default 730). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=730)

    def handle(self, *args, days, **options):
        end = timezone.localdate()
        start = end - timedelta(days=days)
        written = 0
        # A month at a time keeps each transaction small.
        chunk_start = start
        while chunk_start <= end:
            chunk_end = min(chunk_start + timedelta(days=30), end)
            written += rollup_days(start=chunk_start, end=chunk_end)
            chunk_start = chunk_end + timedelta(days=1)
        self.stdout.write(self.style.SUCCESS(f"Rolled up {days + 1} days ({written} rows)."))
        sealed = sealed_through()
        if sealed is not None and sealed >= start:
            self.stdout.write(
                f"Days up to {sealed} were left as they were: the retention schedule has "
                "disposed of records behind them, so their roll-ups are final."
            )
