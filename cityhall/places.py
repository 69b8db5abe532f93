"""Places: the city's neighborhoods, loaded from GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from .geo import validate_boundary
from .models import Neighborhood

DEMO_NEIGHBORHOODS = Path(__file__).parent / "data" / "riverbend_neighborhoods.geojson"


@transaction.atomic
def neighborhoods_load(*, path: Path) -> tuple[int, int]:
    """Create or update neighborhoods from a GeoJSON FeatureCollection. Returns (created, updated).

    Matching is by slug, so loading the same file again changes nothing.
    """
    collection = json.loads(Path(path).read_text(encoding="utf-8"))
    created = updated = 0
    for feature in collection["features"]:
        props = feature["properties"]
        geometry = feature["geometry"]
        validate_boundary(geometry)
        slug = props.get("slug") or slugify(props["name"])
        values = {
            "name": props["name"],
            "boundary": geometry,
            "households": props.get("households", 0),
        }
        existing = Neighborhood.objects.filter(slug=slug).first()
        if existing is None:
            Neighborhood.objects.create(slug=slug, **values)
            created += 1
        elif any(getattr(existing, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(existing, key, value)
            existing.save()
            updated += 1
    return created, updated


def neighborhood_at(*, latitude: float, longitude: float) -> Neighborhood | None:
    return Neighborhood.objects.containing(latitude=latitude, longitude=longitude)
