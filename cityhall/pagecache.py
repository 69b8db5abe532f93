"""Public pages that are the same for every anonymous visitor, served from Redis.

A page is rendered once per language and address, then kept for PUBLIC_PAGE_SECONDS, and
dropped at once when something it shows changes: apps call `invalidate_public_pages()` when an
alert, a permit type, a service category or the published metrics change (signals in each app's
`ready()`), which moves every page to a new generation.

Only visitors without a session or a pending message get a stored page: anyone signed in, in the
middle of a form, or about to see a "saved" message gets the page rendered for them. Each
response still gets its own CSP nonce: the stored copy keeps a placeholder where the nonce was,
filled with the new request's nonce on the way out.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

NONCE_SLOT = "__cityhall_csp_nonce__"
GENERATION_KEY = "pagecache:generation"
KEPT_HEADERS = ("Content-Language", "Vary", "Cache-Control")
MAX_QUERY_LENGTH = 200
MAX_STORED_BYTES = 2_000_000


def invalidate_public_pages(*_args, **_kwargs) -> None:
    """Every stored page is stale: start a new generation once the change is committed (a page
    rendered before the commit would otherwise be stored under the new generation). Usable as a
    signal receiver."""
    transaction.on_commit(_next_generation, robust=True)


def invalidate_on_change(*models) -> None:
    """Public pages show these models: saving or deleting one replaces every stored page (each
    app calls this from its AppConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                invalidate_public_pages,
                sender=model,
                dispatch_uid=f"pagecache-{model._meta.label}-{signal is post_save}",
            )


def _next_generation() -> None:
    if not cache.add(GENERATION_KEY, 1, timeout=None):
        cache.incr(GENERATION_KEY)


def _generation() -> int:
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


def _cacheable(request: HttpRequest) -> bool:
    return (
        settings.PUBLIC_PAGE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        # Made-up query strings cannot fill Redis with copies: long ones are not stored.
        and len(request.META.get("QUERY_STRING", "")) <= MAX_QUERY_LENGTH
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not request.headers.get("HX-Request")
    )


def _key(request: HttpRequest) -> str:
    query = "&".join(sorted(request.GET.urlencode().split("&")))
    return f"pagecache:{_generation()}:{get_language()}:{request.path}?{query}"


def public_page(view):
    """Serve this view's page from the cache to anonymous visitors (see the module's note)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        stored = cache.get(key)
        if stored is not None:
            return _from_store(request, stored)
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming or response.cookies:
            return response
        if callable(getattr(response, "render", None)):
            response.render()
        if len(response.content) <= MAX_STORED_BYTES:
            cache.set(key, _to_store(request, response), timeout=settings.PUBLIC_PAGE_SECONDS)
        return response

    return wrapped


def _to_store(request: HttpRequest, response: HttpResponse) -> dict:
    content = response.content
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:  # generated: the page names it, so it must be replaced for the next visitor
        content = content.replace(str(nonce).encode(), NONCE_SLOT.encode())
    return {
        "content": content,
        "content_type": response["Content-Type"],
        "headers": {name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
    }


def _from_store(request: HttpRequest, stored: dict) -> HttpResponse:
    content = stored["content"]
    if NONCE_SLOT.encode() in content:
        nonce = getattr(request, "_csp_nonce", None)
        content = content.replace(NONCE_SLOT.encode(), str(nonce).encode())
    response = HttpResponse(content, content_type=stored["content_type"])
    for name, value in stored["headers"].items():
        response[name] = value
    return response
