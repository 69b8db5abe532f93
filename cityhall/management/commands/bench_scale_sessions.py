"""`make bench-scale`: signed-in sessions and the records its pages are measured on.

Prints one JSON object: the session cookies of the city administrator (a TOTP device of its
own, created once and reused, and a session marked OTP-verified, as `manage.py bench` fakes it)
and of one resident; the ids the record pages use, picked from the database with SQL; and the
PostgreSQL version. Run it with the settings and SECRET_KEY of the server the cookies are for:
the session engine, the cache and the session's auth hash all depend on them.
"""

# The SQL below names tables from the models' own _meta.db_table, never from input.
# ruff: noqa: S608
from __future__ import annotations

import json
import time

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import RequestFactory
from django.utils.module_loading import import_string
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.console import VERIFIED_AT
from cityhall.middleware import STAFF_SESSION_SEEN, STAFF_SESSION_STARTED
from cityhall.models import User
from code_enforcement.models import ServiceCategory, ServiceRequest
from permits.models import Application

DEVICE_NAME = "bench-scale (make bench-scale)"
DEMO_RESIDENTS = ("maria@example.com", "john@example.com")
GENERATED_DOMAIN = "bench.example"


def _one(sql: str, params=()) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


class Command(BaseCommand):
    help = "Print JSON: OTP-verified admin session, resident session, record ids for the pages."

    def add_arguments(self, parser):
        parser.add_argument("--admin", default="admin@riverbend.example")
        parser.add_argument(
            "--resident",
            default="",
            help="Email of the resident to sign in (default: the resident with most permits).",
        )

    def handle(self, *args, admin, resident, **options):
        admin_user = User.objects.filter(email=admin, is_active=True, is_staff=True).first()
        if admin_user is None:
            raise CommandError(f"No active staff account {admin}: load the demo data first.")
        device, _created = TOTPDevice.objects.get_or_create(
            user=admin_user, name=DEVICE_NAME, defaults={"confirmed": True}
        )
        if not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        resident_user = self._resident(resident)
        ids = self._ids()
        ids["resident_email"] = resident_user.email
        ids["resident_permits"] = Application.objects.filter(applicant=resident_user).count()
        ids["resident_requests"] = ServiceRequest.objects.filter(reporter=resident_user).count()
        version = _one("SHOW server_version")[0]
        result = {
            "cookie_name": settings.SESSION_COOKIE_NAME,
            "sessions": {
                "admin": self._session(admin_user, device),
                "resident": self._session(resident_user, None),
            },
            "admin_email": admin_user.email,
            "ids": ids,
            "postgresql": version,
        }
        self.stdout.write(json.dumps(result))

    def _session(self, user, device) -> str:
        """A session as the sign-in pages leave it (login(), then the second factor)."""
        engine = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
        request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
        request.session = engine()
        request.user = AnonymousUser()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        assert request.session[BACKEND_SESSION_KEY]
        if device is not None:
            otp_login(request, device)
            now = int(time.time())
            request.session[VERIFIED_AT] = now
            request.session[STAFF_SESSION_STARTED] = now
            request.session[STAFF_SESSION_SEEN] = now
            request.session.set_expiry(settings.STAFF_SESSION_MAX_HOURS * 3600)
        request.session.save()
        return request.session.session_key

    def _resident(self, email: str) -> User:
        if email:
            user = User.objects.filter(email=email, is_staff=False, is_active=True).first()
            if user is None:
                raise CommandError(f"No active resident {email}.")
            return user
        users = User._meta.db_table
        applications = Application._meta.db_table
        # A generated resident (bench_scale_data's accounts are at GENERATED_DOMAIN) with the
        # most permit applications, else any resident but the demo logins: a busy /me/ page.
        row = _one(
            f"SELECT u.id FROM {users} u JOIN {applications} a ON a.applicant_id = u.id "
            "WHERE NOT u.is_staff AND u.is_active AND u.email <> ALL(%s) "
            "GROUP BY u.id ORDER BY bool_or(u.email LIKE %s) DESC, count(*) DESC, u.id LIMIT 1",
            (list(DEMO_RESIDENTS), f"%@{GENERATED_DOMAIN}"),
        ) or _one(
            f"SELECT id FROM {users} WHERE NOT is_staff AND is_active AND email <> '' "
            "ORDER BY id LIMIT 1"
        )
        if row is None:
            raise CommandError("No resident account in the database.")
        return User.objects.get(pk=row[0])

    def _ids(self) -> dict:
        applications = Application._meta.db_table
        requests = ServiceRequest._meta.db_table
        categories = ServiceCategory._meta.db_table
        permit = _one(
            f"SELECT id, number FROM {applications} WHERE status = 'in_review' "
            "ORDER BY submitted_at DESC NULLS LAST, id DESC LIMIT 1"
        ) or _one(
            f"SELECT id, number FROM {applications} WHERE number IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        )
        # A public report (not a private category, not merged) from the middle of the table.
        middle = _one(f"SELECT (min(id) + max(id)) / 2 FROM {requests}")[0] or 0
        request = _one(
            f"SELECT sr.id, sr.public_id FROM {requests} sr "
            f"JOIN {categories} c ON c.id = sr.category_id "
            "WHERE NOT c.sensitive AND sr.duplicate_of_id IS NULL AND sr.id >= %s "
            "ORDER BY sr.id LIMIT 1",
            (middle,),
        )
        if permit is None or request is None:
            raise CommandError("No permit application or service request to measure.")
        return {
            "application_id": permit[0],
            "application_number": permit[1],
            "request_id": request[0],
            "request_public_id": request[1],
        }
