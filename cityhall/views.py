"""Liveness and readiness probes for load balancers and container orchestration."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


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
