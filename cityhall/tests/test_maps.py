"""Maps never show a blank box: every map draws the city's neighborhoods from our server, and
the tile server is a setting (or none)."""

from __future__ import annotations

import pytest

from cityhall.models import Neighborhood

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}


def test_the_neighborhoods_are_served_as_geojson(client):
    Neighborhood.objects.create(name="Eastgate", slug="eastgate", boundary=SQUARE)

    data = client.get("/neighborhoods.geojson").json()

    assert data["type"] == "FeatureCollection"
    assert data["features"] == [
        {
            "type": "Feature",
            "properties": {"name": "Eastgate", "slug": "eastgate"},
            "geometry": SQUARE,
        }
    ]


@pytest.mark.parametrize("path", ["/requests/map/", "/es/report/location/"])
def test_maps_name_the_tiles_from_settings_and_the_city_layer(client, settings, path):
    settings.MAP_TILE_URL = "https://tiles.city.example/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© City GIS"
    if "report" in path:
        from code_enforcement.tests.factories import make_category

        client.post("/report/", {"category": make_category().pk})

    page = client.get(path, follow=True).content.decode()

    assert 'data-tiles="https://tiles.city.example/{z}/{x}/{y}.png"' in page
    assert 'data-attribution="© City GIS"' in page
    assert 'data-areas="/neighborhoods.geojson"' in page
    assert "js/city_map.js" in page


def test_the_default_tile_server_is_allowed_by_csp(client):
    policy = client.get("/requests/map/")["Content-Security-Policy"]

    img = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert "https://tile.openstreetmap.org" in img
