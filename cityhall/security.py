from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The real client address for the logs (behind TRUSTED_PROXY_COUNT proxies)."""
    from .ratelimit import client_ip as real_client_ip

    return real_client_ip(request) or ""


class DemoPasswordGuard(ModelBackend):
    """Under production settings nobody signs in with the published demo password: a demo
    account that found its way into a real installation stays locked. (First in
    AUTHENTICATION_BACKENDS; it authenticates nobody itself, and finds users as ModelBackend
    does, since Django records the first backend for sessions it opens without a password.)"""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from django.conf import settings
        from django.core.exceptions import PermissionDenied

        if not settings.DEMO_DATA_ALLOWED and password == settings.DEMO_PASSWORD:
            raise PermissionDenied  # stops every other backend from trying
        return None


def axes_username(request, credentials=None) -> str:
    """The email the lockout counts against, normalised: changing letter case or adding spaces
    is not a fresh set of tries."""
    raw = ""
    if credentials:
        raw = credentials.get("username") or credentials.get("email") or ""
    if not raw and request is not None:
        raw = request.POST.get("username", "")
    return raw.strip().lower()
