import pytest
from django.core.exceptions import ValidationError

from cityhall.geo import polygon_contains
from cityhall.models import Neighborhood
from cityhall.places import DEMO_NEIGHBORHOODS, neighborhood_at, neighborhoods_load

pytestmark = pytest.mark.django_db

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}


def test_point_in_polygon_with_a_hole():
    assert polygon_contains(SQUARE, longitude=2, latitude=2)
    assert not polygon_contains(SQUARE, longitude=5, latitude=5)  # in the hole
    assert not polygon_contains(SQUARE, longitude=11, latitude=5)


def test_demo_city_loads_and_finds_neighborhoods():
    created, updated = neighborhoods_load(path=DEMO_NEIGHBORHOODS)
    assert created == 9 and updated == 0
    assert neighborhood_at(latitude=36.405, longitude=-121.300).slug == "downtown"
    assert neighborhood_at(latitude=36.385, longitude=-121.335).slug == "sunset-flats"
    assert neighborhood_at(latitude=37.0, longitude=-121.3) is None
    # Loading again changes nothing, history included.
    history = Neighborhood.history.count()
    assert neighborhoods_load(path=DEMO_NEIGHBORHOODS) == (0, 0)
    assert Neighborhood.history.count() == history


def test_invalid_boundary_is_refused():
    hood = Neighborhood(
        name="Bad", slug="bad", boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}
    )
    with pytest.raises(ValidationError, match="four positions"):
        hood.full_clean()
