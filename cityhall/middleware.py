"""One gate for every staff-only area: a staff account with a verified second factor."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

# Areas only verified staff may see (with or without a language prefix).
STAFF_PREFIXES = ("/console/", "/kpis/")
# The console's own sign-in steps, reachable before verification.
OPEN_CONSOLE_PATHS = (
    "/console/login/",
    "/console/logout/",
    "/console/verify/",
    "/console/enrol/",
)


def _strip_language(path: str) -> str:
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path


class StaffOTPRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        path = _strip_language(request.path_info)
        if path.startswith(STAFF_PREFIXES) and not path.startswith(OPEN_CONSOLE_PATHS):
            user = request.user
            if not (
                user.is_authenticated and user.is_active and user.is_staff and user.is_verified()
            ):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('admin:login')}?{query}")
        return self.get_response(request)
