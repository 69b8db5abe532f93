"""Report photos: re-encoded without metadata on the way in; staff may hide one."""

from __future__ import annotations

import io
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.constants import EventKind

from ..constants import MAX_PHOTO_BYTES, MAX_PHOTOS
from ..models import RequestPhoto
from ..workflow import REQUESTS


def _gps_from_exif(image) -> tuple[float, float] | None:
    try:
        gps = image.getexif().get_ifd(0x8825)
    except Exception:
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None

    def degrees(values, ref) -> float:
        d, m, s = (float(v) for v in values)
        value = d + m / 60 + s / 3600
        return -value if ref in ("S", "W") else value

    try:
        return degrees(gps[2], gps.get(1, "N")), degrees(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def photo_clean(uploaded) -> tuple[ContentFile, tuple[float, float] | None]:
    """Re-encode a photo as JPEG without metadata; return it and the GPS point it carried."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if uploaded.size > MAX_PHOTO_BYTES:
        raise ValidationError(_("A photo can be up to 8 MB."))
    try:
        image = Image.open(uploaded)  # reads the header only
        width, height = image.size
        if width * height > settings.MAX_IMAGE_PIXELS:
            # Refused before decoding: a few hundred KB of PNG can unpack to gigabytes.
            raise ValidationError(
                _("That photo is too large (%(mp)s megapixels). Send one of at most %(max)s.")
                % {"mp": round(width * height / 1e6), "max": settings.MAX_IMAGE_PIXELS // 1_000_000}
            )
        image.verify()
        uploaded.seek(0)
        image = Image.open(uploaded)
        # MPO is how many phones save JPEGs (a JPEG with a second, depth or preview, frame).
        if image.format not in ("JPEG", "MPO", "PNG", "HEIF", "WEBP"):
            raise ValidationError(_("Photos must be JPEG or PNG."))
        gps = _gps_from_exif(image)
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationError(
            _("That file is not a photo we can read. Use a JPEG or PNG.")
        ) from None
    image.thumbnail((2400, 2400))
    out = io.BytesIO()
    # Saving without exif= drops every tag: camera, time and location stay private.
    image.save(out, format="JPEG", quality=85)
    return ContentFile(out.getvalue(), name="photo.jpg"), gps


@transaction.atomic
def photo_add_to_draft(
    *, draft_token: str, uploaded
) -> tuple[RequestPhoto, tuple[float, float] | None]:
    if (
        RequestPhoto.objects.filter(draft_token=draft_token, request__isnull=True).count()
        >= MAX_PHOTOS
    ):
        raise ValidationError(_("You can add up to 5 photos."))
    content, gps = photo_clean(uploaded)
    photo = RequestPhoto(draft_token=draft_token)
    photo.image.save("photo.jpg", content, save=False)
    photo.save()
    return photo, gps


def photos_discard_draft(*, draft_token: str) -> int:
    """The photos of a report the visitor started over (their files too)."""
    return _remove(RequestPhoto.objects.filter(draft_token=draft_token, request__isnull=True))


def photos_remove_orphans(*, now=None) -> int:
    """Photos of reports never sent, once ORPHAN_UPLOAD_HOURS have passed (beat, hourly)."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.ORPHAN_UPLOAD_HOURS)
    return _remove(RequestPhoto.objects.filter(request__isnull=True, uploaded_at__lt=cutoff))


def _remove(photos) -> int:
    removed = 0
    for photo in photos.iterator():
        photo.image.delete(save=False)
        photo.delete()
        removed += 1
    return removed


@REQUESTS.handler("photo")
@transaction.atomic
def photo_set_hidden(*, request=None, photo: RequestPhoto, actor, hidden: bool) -> RequestPhoto:
    request = request or photo.request
    REQUESTS.check(request, "photo", actor)
    photo.hidden = hidden
    photo.save(update_fields=["hidden"])
    REQUESTS.record(
        request,
        kind=EventKind.PHOTO_HIDDEN if hidden else EventKind.PHOTO_SHOWN,
        actor=actor,
        public=False,
    )
    return photo
