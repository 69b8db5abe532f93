"""Finding an address as people type it, and a map point as words."""

from __future__ import annotations

import pytest
from django.test import Client

from code_enforcement.addresses import nearest, parse, search
from code_enforcement.models import Address

from .factories import ensure_city, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def street():
    ensure_city()
    lines = ["1032 Oak Street", "1070 Oak Street", "109 Oak Street", "120 Oak Street",
             "15 Oak Street", "120 Main Street", "3 Vista del Río Court"]  # fmt: skip
    for n, line in enumerate(lines):
        Address.objects.create(line=line, latitude=36.405 + n * 0.001, longitude=-121.3)
    return lines


def test_parse_reads_numbers_suffixes_and_units():
    assert parse("120 Oak St.") == parse("120 oak street")
    assert parse("120 OAK ST, Apt 4B").unit == "Apt 4B"
    assert parse("120 Oak St #4").unit == "#4"
    assert parse("120 Oak Street").number == 120
    assert parse("3 Vista del Rio Ct").street == parse("3 Vista del Río Court").street


@pytest.mark.parametrize(
    "typed", ["120 Oak Street", "120 oak street", "120 Oak St", "120 OAK ST.", "120 Oak St apt 4"]
)
def test_the_address_is_found_however_it_is_typed(street, typed):
    found = search(typed)

    assert found.exact is not None and found.exact.line == "120 Oak Street"
    assert found.matches[0] == found.exact


def test_a_street_lists_in_number_order():
    ensure_city()
    for line in ["1032 Oak Street", "1070 Oak Street", "109 Oak Street", "15 Oak Street"]:
        Address.objects.create(line=line, latitude=36.41, longitude=-121.3)

    assert [a.line for a in search("Oak Street").matches] == [
        "15 Oak Street",
        "109 Oak Street",
        "1032 Oak Street",
        "1070 Oak Street",
    ]


def test_no_exact_match_offers_the_nearest_numbers_on_that_street(street):
    found = search("1040 Oak St")

    assert found.exact is None
    assert [a.line for a in found.matches[:2]] == ["1032 Oak Street", "1070 Oak Street"]
    assert all("Oak Street" in a.line for a in found.matches)


def test_accents_do_not_matter(street):
    assert search("3 Vista del Rio Court").exact.line == "3 Vista del Río Court"
    assert search("3 vista del río ct").exact.line == "3 Vista del Río Court"


def test_a_map_point_is_near_the_closest_address(street):
    assert nearest(36.4051, -121.3).line == "1032 Oak Street"
    assert nearest(37.5, -121.3) is None  # nothing within a few hundred metres


def test_the_nearest_address_as_words_in_spanish(street):
    client = Client()

    english = client.get("/report/nearest.json", {"lat": 36.4051, "lon": -121.3}).json()
    spanish = client.get("/es/report/nearest.json", {"lat": 36.4051, "lon": -121.3}).json()

    assert english == {"label": "Near 1032 Oak Street"}
    assert spanish == {"label": "Cerca de 1032 Oak Street"}
    assert client.get("/report/nearest.json", {"lat": "x"}).status_code == 400


def test_reporting_by_address_keeps_the_unit_and_offers_the_nearest(street):
    client = Client()
    client.post("/report/", {"category": make_category().pk})

    page = client.post("/report/location/", {"address": "1040 Oak St"}).content.decode()
    assert "We could not find that exact address." in page
    assert 'value="1032 Oak Street"' in page  # offered as a choice

    # Without JavaScript, the chosen suggestion is the address.
    response = client.post(
        "/report/location/", {"address": "1040 Oak St", "address_choice": "1032 Oak Street"}
    )
    assert response.status_code == 302
    assert client.session["report"]["address"] == "1032 Oak Street"

    response = client.post("/report/location/", {"address": "120 oak st, apt 4"})
    assert response.status_code == 302
    assert client.session["report"]["address"] == "120 Oak Street, apt 4"


def test_the_place_is_needed_and_the_field_does_not_say_optional(street):
    client = Client()
    client.post("/es/report/", {"category": make_category().pk})

    page = client.get("/es/report/location/").content.decode()
    label = page.split('for="id_address"')[1].split("</label>")[0]
    assert "opcional" not in label
    page = client.post("/es/report/location/", {"address": ""}).content.decode()
    assert "Escriba una dirección o elija el lugar en el mapa." in page
