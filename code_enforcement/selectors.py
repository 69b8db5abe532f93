"""Reads for service requests and code cases. Public reads never include personal data."""

from __future__ import annotations

from django.db.models import QuerySet

from .constants import RequestStatus
from .models import Follower, ServiceCategory, ServiceRequest


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


# --- A resident's own data ("Download my data") ----------------------------------------------------


def personal_data(user) -> tuple[dict, list]:
    """The problems the person reported (with their photos and public timeline) and the reports
    they follow. The code cases behind reports are the city's: they are not the person's data."""
    from cityhall.personal_data import fields_of, file_name

    reports, files = [], []
    for request in (
        ServiceRequest.objects.filter(reporter=user)
        .select_related("category")
        .prefetch_related("photos", "events")
        .order_by("pk")
    ):
        photos = []
        for photo in request.photos.all():
            path = file_name(f"reports/{request.public_id}", photo.image.name)
            files.append((path, photo.image))
            photos.append({"uploaded_at": photo.uploaded_at.isoformat(), "file": path})
        reports.append(
            {
                **fields_of(
                    request,
                    leave_out={
                        "reporter",
                        "reporter_secret",
                        "api_key",
                        "assigned_to",
                        "case",
                        "department",
                        "status_notes",
                        "breach_notified_at",
                    },
                ),
                "photos": photos,
                "timeline": [
                    {"at": e.created_at.isoformat(), "kind": e.kind, "text": e.words}
                    for e in request.events.all()
                    if e.public
                ],
            }
        )
    following = [
        {"report": follower.request.public_id, **fields_of(follower, leave_out={"request", "user"})}
        for follower in Follower.objects.filter(user=user).select_related("request")
    ]
    return {"reports": reports, "reports_followed": following}, files
