"""Request gates: staff-only areas need a verified second factor; bodies have a size limit."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
    "/console/invite/",
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
        expired = _staff_session_expired(request)
        if expired is not None:
            return expired
        path = _strip_language(request.path_info)
        if path.startswith(STAFF_PREFIXES) and not path.startswith(OPEN_CONSOLE_PATHS):
            user = request.user
            if not (
                user.is_authenticated and user.is_active and user.is_staff and user.is_verified()
            ):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('admin:login')}?{query}")
        return self.get_response(request)


STAFF_SESSION_STARTED = "staff_session_started"
STAFF_SESSION_SEEN = "staff_session_seen"


def _staff_session_expired(request: HttpRequest):
    """Staff sessions end after STAFF_SESSION_IDLE_MINUTES without a request and, whatever
    happens, STAFF_SESSION_MAX_HOURS after they began; residents keep Django's defaults."""
    import time

    from django.contrib.auth import logout

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return None
    now = int(time.time())
    session = request.session
    started = session.setdefault(STAFF_SESSION_STARTED, now)
    seen = session.get(STAFF_SESSION_SEEN, now)
    if (
        now - started > settings.STAFF_SESSION_MAX_HOURS * 3600
        or now - seen > settings.STAFF_SESSION_IDLE_MINUTES * 60
    ):
        logout(request)
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('admin:login')}?{query}")
    # Written at most once a minute: the idle clock without a session write per request.
    if now - seen >= 60 or STAFF_SESSION_SEEN not in session:
        session[STAFF_SESSION_SEEN] = now
        session.set_expiry(settings.STAFF_SESSION_MAX_HOURS * 3600)
    return None


class RequestGuardMiddleware:
    """Refuse, before any view runs, what no page can use:

    * a body larger than MAX_REQUEST_BYTES, before any of it is read (Django limits form fields
      in memory, but a multipart upload would be streamed to a temporary file first: a 200 MB
      POST must cost us nothing);
    * a NUL byte in the address, the query or a form body (PostgreSQL text cannot hold one:
      it would reach the database as a server error).

    API paths (`.json`, `.xml`) get the Open311 error shape; everything else a short text.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            message = f"The request is too large: at most {limit // (1024 * 1024)} MB can be sent."
            return _refusal(request.path, 413, message)
        if _has_nul(request):
            return _refusal(request.path, 400, "The request contains a NUL character.")
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def _has_nul(request) -> bool:
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "%00" in query or "\x00" in query:
        return True
    if request.content_type == "application/x-www-form-urlencoded":
        body = request.body  # small: the size check above came first
        return b"%00" in body or b"\x00" in body
    return False


def _refusal(path: str, status: int, message: str) -> HttpResponse:
    from xml.sax.saxutils import escape

    if path.endswith(".json"):
        body = json.dumps([{"code": status, "description": message}])
        kind = "application/json"
    elif path.endswith(".xml"):
        body = (
            f'<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>{status}</code>'
            f"<description>{escape(message)}</description></error></errors>"
        )
        kind = "text/xml"
    else:
        body, kind = message, "text/plain"
    return HttpResponse(body, status=status, content_type=f"{kind}; charset=utf-8")


class RateLimitMiddleware:
    """A limit reached anywhere (cityhall.ratelimit.Limited) becomes a clear 429 page in the
    visitor's language, saying when to try again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from .ratelimit import Limited

        if not isinstance(exception, Limited):
            return None
        minutes = max(1, -(-exception.retry_after // 60))
        response = render(request, "429.html", {"minutes": minutes}, status=429)
        response["Retry-After"] = str(exception.retry_after)
        return response
