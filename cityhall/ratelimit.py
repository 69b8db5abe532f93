"""Limits on anonymous writes, counted in Redis (the cache), per client address and per
destination (the email or phone a message would go to).

A limit is "N/s", "N/m", "N/h" or "N/d": at most N hits in a fixed window of that length. The
real client address comes from `client_ip`, which trusts X-Forwarded-For only as far as
TRUSTED_PROXY_COUNT proxies of our own put it there.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Limited(Exception):
    """Raised (or returned) when a limit is reached; `retry_after` is in seconds."""

    scope: str
    retry_after: int


def parse(rate: str) -> tuple[int, int]:
    count, _slash, unit = rate.partition("/")
    return int(count), _SECONDS[unit]


def client_ip(request) -> str | None:
    """The address of the person, not of our proxy: with N trusted proxies in front, the N-th
    address from the right of X-Forwarded-For (anything left of it was written by the client)."""
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= trusted:
            return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR") or None


def hit(scope: str, key: str, rate: str, *, now: float | None = None) -> None:
    """Count one hit of `key` against `rate` in `scope`; raise Limited once it is over."""
    if not key:
        return
    count, window = parse(rate)
    now = time.time() if now is None else now
    start = int(now // window) * window
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{window}:{start}:{digest}"
    if cache.add(cache_key, 1, timeout=window + 5):
        used = 1
    else:
        try:
            used = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 5)
            used = 1
    if used > count:
        raise Limited(scope, max(1, int(start + window - now)))


def check(request, scope: str, *, destinations: tuple[str, ...] = ()) -> None:
    """Apply the limits configured for `scope` (RATE_LIMITS[scope]): per client address, then
    per destination."""
    rates = settings.RATE_LIMITS[scope]
    hit(f"{scope}:ip", client_ip(request) or "unknown", rates["ip"])
    for destination in destinations:
        if destination and "destination" in rates:
            hit(f"{scope}:to", destination, rates["destination"])


_RESERVE = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free < now then free = now end
redis.call('SET', KEYS[1], tostring(free + cost), 'EX', math.ceil(free + cost - now) + 60)
return tostring(free - now)
"""


def reserve(scope: str, rate: str, count: int, *, now: float | None = None) -> float:
    """Book `count` sends at a provider's limit ("5/s") for the whole city, counted in Redis
    across every worker, and return how many seconds from now the first may go. Senders are
    queued to start then (a countdown), so no worker ever sleeps waiting for its turn and other
    work (email behind texts) keeps moving. An empty rate books nothing and returns 0."""
    if not rate or count <= 0:
        return 0.0
    per, window = parse(rate)
    now = time.time() if now is None else now
    client = cache._cache.get_client(write=True)
    key = cache.make_key(f"rl:reserve:{scope}")
    return float(client.eval(_RESERVE, 1, key, repr(now), repr(count * window / per)))
