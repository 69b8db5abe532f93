"""Open311 GeoReport v2 driven the way a client library drives it: discovery first, then the
endpoint it names; form-encoded POSTs with attribute[code] and attribute[code][]; single-item
lists in JSON and XML; HEAD; and bad input answered in the spec's error shape, never a 500."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

import pytest

from cityhall.places import DEMO_NEIGHBORHOODS, neighborhoods_load
from code_enforcement.constants import Datatype
from code_enforcement.models import (
    ApiKey,
    Department,
    ServiceAttribute,
    ServiceCategory,
    ServiceRequest,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db):
    neighborhoods_load(path=DEMO_NEIGHBORHOODS)
    works = Department.objects.create(name="Public Works", email="works@riverbend.example")
    vehicle = ServiceCategory.objects.create(
        code="abandoned-vehicle",
        name_en="Abandoned vehicle",
        name_es="Vehículo abandonado",
        department=works,
        triage_sla_days=2,
        resolution_sla_days=10,
    )
    ServiceAttribute.objects.create(
        category=vehicle,
        code="kind",
        datatype=Datatype.SINGLE,
        required=True,
        order=1,
        description_en="What kind of vehicle?",
        description_es="¿Qué tipo de vehículo?",
        values=[{"key": "car", "en": "Car", "es": "Auto"}, {"key": "truck", "en": "Truck"}],
    )
    ServiceAttribute.objects.create(
        category=vehicle,
        code="signs",
        datatype=Datatype.MULTI,
        order=2,
        description_en="What do you see?",
        description_es="¿Qué ve?",
        values=[{"key": "flat", "en": "Flat tires"}, {"key": "glass", "en": "Broken glass"}],
    )
    ServiceCategory.objects.create(
        code="noise",
        name_en="Noise",
        name_es="Ruido",
        department=works,
        allow_anonymous=False,
    )
    _key, raw = ApiKey.issue(name="Fix-It app", contact_email="dev@fixit.example")
    return raw


def _endpoint(client) -> str:
    discovery = client.get("/open311/v2/discovery.json").json()
    return urlsplit(discovery["endpoints"][0]["url"]).path


def _post(client, base, **fields):
    return client.post(
        f"{base}/requests.json",
        data=urlencode(fields, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


def test_a_client_discovers_lists_defines_posts_and_reads_back(client, city):
    base = _endpoint(client)
    services = client.get(f"{base}/services.json").json()
    codes = {service["service_code"]: service for service in services}
    assert set(codes) == {"abandoned-vehicle"}  # the signed-in-only category is not offered
    assert codes["abandoned-vehicle"]["metadata"] is True
    definition = client.get(f"{base}/services/abandoned-vehicle.json").json()
    assert [a["code"] for a in definition["attributes"]] == ["kind", "signs"]

    # No description (optional in the spec); a multi-valued attribute sent as attribute[x][].
    response = _post(
        client,
        base,
        api_key=city,
        service_code="abandoned-vehicle",
        lat="36.405",
        long="-121.300",
        **{"attribute[kind]": "car", "attribute[signs][]": ["flat", "glass"]},
        media_url="https://photos.fixit.example/p/123.jpg",
        phone="(555) 0100",  # the kind of number people type; left out, not refused
    )
    assert response.status_code == 201, response.content
    request_id = response.json()[0]["service_request_id"]
    stored = ServiceRequest.objects.get(public_id=request_id)
    assert stored.attributes == {"kind": "car", "signs": ["flat", "glass"]}
    assert stored.media_url == "https://photos.fixit.example/p/123.jpg"

    read = client.get(f"{base}/requests/{request_id}.json").json()
    assert len(read) == 1 and read[0]["service_request_id"] == request_id
    assert read[0]["media_url"] == "https://photos.fixit.example/p/123.jpg"
    assert read[0]["requested_datetime"] <= read[0]["updated_datetime"]
    xml = ET.fromstring(client.get(f"{base}/requests/{request_id}.xml").content)
    assert xml.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in xml.findall("request")] == [request_id]
    head = client.head(f"{base}/services.json")
    assert head.status_code == 200 and head.content == b""


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status
    return body[0]["description"]


def test_errors_name_the_field_and_use_the_spec_shape(client, city):
    base = _endpoint(client)
    common = {"api_key": city, "service_code": "abandoned-vehicle", "lat": "36.405"}
    assert "long" in _error(_post(client, base, **common), 400)
    full = {**common, "long": "-121.300"}
    assert "attribute[kind]" in _error(_post(client, base, **full), 400)
    wrong = _post(client, base, **full, **{"attribute[kind]": "boat"})
    assert "attribute[kind] must be one of: car, truck" in _error(wrong, 400)
    too_long = _post(client, base, **full, **{"attribute[kind]": "car"}, description="x" * 4001)
    assert "description" in _error(too_long, 400)
    bad_media = _post(client, base, **full, **{"attribute[kind]": "car"}, media_url="ftp://x")
    assert "media_url" in _error(bad_media, 400)
    assert "not found" in _error(_post(client, base, **{**full, "service_code": "nope"}), 404)
    assert "not found" in _error(_post(client, base, **{**full, "service_code": "noise"}), 404)


@pytest.mark.parametrize(
    "query",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45"},
        {"start_date": "2026-05-01", "end_date": "2026-04-01"},
        {"status": "maybe"},
        {"service_code": "x" * 5000},
    ],
)
def test_malformed_queries_are_400_never_500(client, city, query):
    base = _endpoint(client)
    response = client.get(f"{base}/requests.json", query)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        _error(response, 400)


@pytest.mark.parametrize("request_id", ["x" * 300, "../../etc/passwd", "😀", "a,b;c"])
def test_malformed_ids_are_404_in_the_spec_shape(client, city, request_id):
    base = _endpoint(client)
    response = client.get(f"{base}/requests/{request_id}.json")
    assert response.status_code == 404
    _error(response, 404)


@pytest.mark.parametrize(
    "path", ["/open311/v2/requests/%00.json", "/open311/v2/requests.json?service_code=%00"]
)
def test_a_nul_byte_is_a_400_in_the_spec_shape_not_a_database_error(client, city, path):
    _error(client.get(path), 400)
    assert client.get("/permits/search/?q=%00").status_code == 400
    form = client.post(
        "/open311/v2/requests.json",
        data="service_code=a%00b",
        content_type="application/x-www-form-urlencoded",
    )
    _error(form, 400)


def test_a_huge_body_is_refused_before_it_is_read(client, city):
    base = _endpoint(client)
    response = client.post(
        f"{base}/requests.json",
        data="api_key=x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert "too large" in _error(response, 413)
    xml = client.post(
        f"{base}/requests.xml",
        data="api_key=x",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )
    assert xml.status_code == 413 and ET.fromstring(xml.content).findtext("error/code") == "413"
    page = client.post("/report/", data="x=1", content_type="application/x-www-form-urlencoded",
                       CONTENT_LENGTH=str(200 * 1024 * 1024))  # fmt: skip
    assert page.status_code == 413
