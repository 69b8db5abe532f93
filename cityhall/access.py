"""Records of staff access to residents' personal data (what SOC 2 auditors ask for)."""

from __future__ import annotations

from .models import StaffAccess
from .ratelimit import client_ip


def log_access(request, *, what: str, record) -> None:
    """Note that `request.user` saw `what` of `record`. Only GETs count: a page shown is a page
    seen; the POST that follows an action is logged by the audit history instead."""
    if request.method != "GET" or not request.user.is_authenticated:
        return
    StaffAccess.objects.create(
        staff=request.user,
        what=what,
        record=f"{type(record).__name__} {record}"[:160],
        path=request.path[:300],
        ip=client_ip(request),
    )
