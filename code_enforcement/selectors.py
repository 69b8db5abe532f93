"""Reads for service requests and code cases. Public reads never include personal data."""

from __future__ import annotations

from django.db.models import QuerySet

from .constants import RequestStatus
from .models import ServiceCategory, ServiceRequest


def address_matches(query: str, *, limit: int = 8):
    """The city's addresses for what was typed: the exact one first, else the nearest
    (code_enforcement.addresses)."""
    from .addresses import search

    return search(query, limit=limit)


def requests_public_open(*, category: ServiceCategory | None = None) -> QuerySet[ServiceRequest]:
    queryset = (
        ServiceRequest.objects.exclude(status=RequestStatus.CLOSED)
        .filter(category__sensitive=False)
        .select_related("category", "neighborhood")
        .only(
            "public_id",
            "status",
            "created_at",
            "address",
            "latitude",
            "longitude",
            "category__name_en",
            "category__name_es",
            "category__code",
            "neighborhood__name",
        )
        .order_by("-created_at")
    )
    return queryset.filter(category=category) if category else queryset


def map_points(*, category: ServiceCategory | None = None, limit: int = 2000) -> list[dict]:
    """Open, non-sensitive requests for the public map: place, kind, status. Nothing personal."""
    rows = requests_public_open(category=category).filter(latitude__isnull=False)[:limit]
    return [
        {
            "id": row.public_id,
            "lat": round(row.latitude, 5),
            "lon": round(row.longitude, 5),
            "category": row.category.t("name"),
            "status": row.get_status_display(),
            "url": row.get_absolute_url(),
        }
        for row in rows
    ]


def requests_for_resident(*, user) -> QuerySet[ServiceRequest]:
    return (
        ServiceRequest.objects.filter(reporter=user)
        .select_related("category")
        .order_by("-created_at")
    )
