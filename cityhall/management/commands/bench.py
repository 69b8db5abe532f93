"""`make bench`: time the main pages against the running database (demo data loaded).

Numbers, not assertions: compare them between commits on the same machine.
"""

import statistics
import time
from io import StringIO

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.models import User


class Command(BaseCommand):
    help = "Benchmark the main pages (median and p95 milliseconds, queries per request)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=200)

    def handle(self, *args, requests, **options):
        call_command("load_demo", stdout=StringIO())
        anonymous = Client()
        resident = Client()
        resident.force_login(User.objects.get(email="maria@example.com"))
        admin = Client()
        admin_user = User.objects.get(email="admin@riverbend.example")
        admin.force_login(admin_user)
        device = TOTPDevice.objects.create(
            user=admin_user, name="bench (temporary)", confirmed=True
        )
        session = admin.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        cases = [
            ("home", anonymous, "/"),
            ("home (es)", anonymous, "/es/"),
            ("my city hall", resident, "/es/me/"),
            ("profile", resident, "/es/me/profile/"),
            ("console index", admin, "/console/"),
            ("console users", admin, "/console/cityhall/user/"),
            ("alerts", anonymous, "/alerts/"),
            ("alerts feed", anonymous, "/alerts/feed.atom"),
            ("permit types", anonymous, "/es/permits/"),
            ("permit search", anonymous, "/permits/search/?q=Oak"),
            ("console permits", admin, "/console/permits/application/"),
            ("console alerts", admin, "/console/alerts/alert/"),
            ("readyz", anonymous, "/readyz"),
        ]
        self.stdout.write(f"{'page':<16}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
        try:
            with override_settings(DEBUG=True, ALLOWED_HOSTS=["*"]):
                for name, client, url in cases:
                    client.get(url)  # warm caches and connections
                    timings = []
                    for _ in range(requests):
                        reset_queries()
                        start = time.perf_counter()
                        response = client.get(url)
                        timings.append((time.perf_counter() - start) * 1000)
                        assert response.status_code == 200, (url, response.status_code)
                    queries = len(connection.queries)
                    p95 = statistics.quantiles(timings, n=20)[-1]
                    self.stdout.write(
                        f"{name:<16}{statistics.median(timings):>10.2f}{p95:>10.2f}{queries:>9}"
                    )
        finally:
            device.delete()
