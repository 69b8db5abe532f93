"""Liveness and readiness probes for load balancers and container orchestration."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_page, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger("cityhall.security")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return type(error).__name__
    return None


def _redis_ok() -> str | None:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
    except Exception as error:
        return type(error).__name__
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    down = sorted(name for name, error in checks.items() if error)
    body = {
        "status": "ok" if not down else "unavailable",
        "checks": {
            name: ("ok" if error is None else f"down ({error})") for name, error in checks.items()
        },
    }
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


CSP_REPORT_MAX_BYTES = 64 * 1024


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Browsers report Content-Security-Policy violations here; each is logged (a blocked
    script on our pages is a bug or an attack, and either way we want to know)."""
    import json

    if int(request.META.get("CONTENT_LENGTH") or 0) > CSP_REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        report = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(status=400)
    body = report.get("csp-report", report) if isinstance(report, dict) else {}
    if isinstance(body, dict):
        logger.warning(
            "csp-violation document=%s directive=%s blocked=%s",
            str(body.get("document-uri", ""))[:300],
            str(body.get("violated-directive") or body.get("effective-directive", ""))[:100],
            str(body.get("blocked-uri", ""))[:300],
        )
    return HttpResponse(status=204)


@cache_page(300)
def neighborhoods_geojson(request: HttpRequest) -> JsonResponse:
    """The city's neighborhoods as GeoJSON, for every map to draw under its markers: the map
    shows the city even when no tile server answers."""
    from .models import Neighborhood

    features = [
        {
            "type": "Feature",
            "properties": {"name": name, "slug": slug},
            "geometry": boundary,
        }
        for name, slug, boundary in Neighborhood.objects.order_by("name").values_list(
            "name", "slug", "boundary"
        )
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


# --- Error pages ---------------------------------------------------------------------------------
# In the site's shell and the visitor's language (LocaleMiddleware has chosen it from the path by
# now), with a way back. Console addresses get the console's shell. The 500 page is rendered
# without the request's context processors or the database: whatever broke must not break it.


def _error_page(request, status: int, template: str):
    from django.shortcuts import render

    if request.path.startswith("/console/"):
        from django.contrib import admin

        context = {**admin.site.each_context(request), "title": None}
        return render(request, f"console/{template}", context, status=status)
    return render(request, template, status=status)


def bad_request(request, exception=None):
    return _error_page(request, 400, "400.html")


def permission_denied(request, exception=None):
    return _error_page(request, 403, "403.html")


def page_not_found(request, exception=None):
    return _error_page(request, 404, "404.html")


def csrf_failure(request, reason=""):
    """A form whose CSRF check failed (an old page, blocked cookies): Django's own page is in
    English for staff, and in its Spanish says "tú"; this one says what to do, in our words."""
    return _error_page(request, 403, "403_csrf.html")


def server_error(request):
    from django.template.loader import render_to_string
    from django.utils.translation import get_language

    html = render_to_string("500.html", {"CITY": settings.CITY, "LANG": get_language() or "en"})
    return HttpResponse(html, status=500)
