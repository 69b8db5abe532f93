"""Small, dependency-free geometry for GeoJSON polygons (longitude, latitude order)."""

from __future__ import annotations

import math
from collections.abc import Iterable


class GeoJSONError(ValueError):
    pass


def _polygons(geometry: dict) -> list[list[list[list[float]]]]:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        return [geometry["coordinates"]]
    if kind == "MultiPolygon":
        return list(geometry["coordinates"])
    raise GeoJSONError("Boundary must be a GeoJSON Polygon or MultiPolygon.")


def validate_boundary(geometry: dict) -> None:
    for polygon in _polygons(geometry):
        if not polygon:
            raise GeoJSONError("A polygon needs at least one ring.")
        for ring in polygon:
            if len(ring) < 4:
                raise GeoJSONError("Each ring needs at least four positions.")
            if ring[0] != ring[-1]:
                raise GeoJSONError("Each ring must end where it starts.")
            for position in ring:
                lon, lat = position[0], position[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise GeoJSONError("Positions must be [longitude, latitude] in degrees.")


def bbox_of(geometry: dict) -> tuple[float, float, float, float]:
    points = [p for polygon in _polygons(geometry) for p in polygon[0]]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


def _ring_contains(ring: Iterable[list[float]], x: float, y: float) -> bool:
    # Even-odd ray casting; a point exactly on an edge may fall either side.
    inside = False
    ring = list(ring)
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def polygon_contains(geometry: dict, *, longitude: float, latitude: float) -> bool:
    for polygon in _polygons(geometry):
        outer, holes = polygon[0], polygon[1:]
        if _ring_contains(outer, longitude, latitude) and not any(
            _ring_contains(hole, longitude, latitude) for hole in holes
        ):
            return True
    return False


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in meters (haversine)."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
