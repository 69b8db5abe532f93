"""Open311 GeoReport v2: every JSON answer validates against the published schemas; the spec's
rules.

The schemas are kept in standards/open311/ (copied from the specification) and refer to each other by
file name ("$ref": "request.json"), so they are loaded into one `referencing` registry.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from cityhall.places import DEMO_NEIGHBORHOODS, neighborhoods_load
from code_enforcement import open311
from code_enforcement.constants import Datatype, RequestStatus, Resolution, Source
from code_enforcement.models import (
    Address,
    ApiKey,
    Department,
    RequestPhoto,
    ServiceAttribute,
    ServiceCategory,
    ServiceRequest,
)

# The schemas are kept in the repository (standards/README.md says where they come from).
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "standards" / "open311"
SCHEMA_FILES = (
    "service.json",
    "services.json",
    "service-definition.json",
    "request.json",
    "requests.json",
    "swagger.json",
)
BASE = "/open311/v2"
DOWNTOWN = {"lat": "36.405", "long": "-121.300"}
EMAIL = "reporter.private@example.com"
PHONE = "+1 415 555 2671"
PHONE_DIGITS = "4155552671"

pytestmark = [pytest.mark.django_db, pytest.mark.urls("code_enforcement.tests.open311_test_urls")]

# Shapes the shared schemas do not cover: errors, the POST answer and the token answer (from
# the swagger's RequestResponse/TokenResponse; account_id is null as in the spec's example).
ERRORS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
CREATED_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id"],
        "properties": {
            "service_request_id": {"type": "string"},
            "service_notice": {"type": ["string", "null"]},
            "account_id": {"type": ["string", "null"]},
        },
    },
}
DISCOVERY_SCHEMA = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


@pytest.fixture(scope="session")
def schemas() -> Registry:
    if not SCHEMA_DIR.is_dir():
        pytest.fail(
            f"The Open311 schemas are missing: expected the folder {SCHEMA_DIR} (with "
            "service.json, services.json, service-definition.json, request.json, requests.json "
            "and swagger.json; see standards/README.md)."
        )
    resources = []
    for name in SCHEMA_FILES:
        path = SCHEMA_DIR / name
        if not path.is_file():
            pytest.fail(f"The Open311 schema {name} is missing from {SCHEMA_DIR}.")
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((name, Resource.from_contents(contents, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


@pytest.fixture
def validate(schemas):
    """validate(data, "requests.json") or validate(data, {...an inline schema...})."""

    def check(data, schema):
        if isinstance(schema, str):
            schema = schemas.contents(schema)
        validator = Draft7Validator(
            schema, registry=schemas, format_checker=Draft7Validator.FORMAT_CHECKER
        )
        validator.validate(data)
        return data

    return check


@pytest.fixture
def city(db):
    neighborhoods_load(path=DEMO_NEIGHBORHOODS)


@pytest.fixture
def works(db) -> Department:
    return Department.objects.create(name="Public Works", email="works@riverbend.example")


def make_category(department: Department, code: str, **fields) -> ServiceCategory:
    values = {
        "name_en": code.replace("-", " ").title(),
        "name_es": f"{code} (es)",
        "description_en": f"Report a {code}.",
        "description_es": f"Reporte: {code}.",
        "group": "Streets",
        "department": department,
        "keywords": "street, road",
        **fields,
    }
    return ServiceCategory.objects.create(code=code, **values)


@pytest.fixture
def pothole(works) -> ServiceCategory:
    return make_category(works, "pothole", name_en="Pothole", name_es="Bache")


@pytest.fixture
def vehicle(works) -> ServiceCategory:
    """A category with a definition: a required single choice, a multiple choice, a number."""
    category = make_category(
        works, "abandoned-vehicle", name_en="Abandoned vehicle", group="Parking"
    )
    ServiceAttribute.objects.create(
        category=category,
        code="kind",
        datatype=Datatype.SINGLE,
        required=True,
        order=1,
        description_en="What kind of vehicle?",
        description_es="¿Qué tipo de vehículo?",
        values=[
            {"key": "car", "en": "Car", "es": "Auto"},
            {"key": "truck", "en": "Truck", "es": "Camión"},
        ],
    )
    ServiceAttribute.objects.create(
        category=category,
        code="signs",
        datatype=Datatype.MULTI,
        order=2,
        description_en="What do you see?",
        description_es="¿Qué ve?",
        values=[
            {"key": "flat", "en": "Flat tires", "es": "Llantas"},
            {"key": "glass", "en": "Broken glass", "es": "Vidrio"},
        ],
    )
    ServiceAttribute.objects.create(
        category=category,
        code="days",
        datatype=Datatype.NUMBER,
        order=3,
        description_en="For how many days?",
        description_es="¿Cuántos días?",
    )
    return category


@pytest.fixture
def unsafe_building(works) -> ServiceCategory:
    return make_category(works, "unsafe-building", name_en="Unsafe building", sensitive=True)


@pytest.fixture
def api_key(db) -> str:
    _key, raw = ApiKey.issue(name="Riverbend Fix-It app", contact_email="dev@fixit.example")
    return raw


def post(client: Client, fmt: str = "json", **fields):
    """A form-encoded POST, as the spec says (not multipart)."""
    return client.post(
        f"{BASE}/requests.{fmt}",
        data=urlencode(fields, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )


def make_request(category, *, days_ago: float = 1, **fields) -> ServiceRequest:
    values = {
        "description": "Deep pothole by the curb",
        "address": "100 Main Street",
        "latitude": 36.405,
        "longitude": -121.300,
        "contact_name": "Pat Private",
        "contact_email": EMAIL,
        "contact_phone": "+14155552671",
        "created_at": timezone.now() - timedelta(days=days_ago),
        **fields,
    }
    return ServiceRequest.objects.create(category=category, **values)


def assert_error(response, code: int, validate, *, containing: str = "") -> str:
    assert response.status_code == code, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = validate(response.json(), ERRORS_SCHEMA)
    assert data[0]["code"] == code
    assert containing.lower() in data[0]["description"].lower()
    return data[0]["description"]


# --- Discovery and services ---------------------------------------------------------------------


def test_discovery_json_and_xml(client, validate, settings):
    """The endpoint's address is the one the client reached (right whatever SITE_URL says)."""
    settings.SITE_URL = "https://elsewhere.example"
    settings.ALLOWED_HOSTS = ["city.riverbend.example"]
    client = type(client)(HTTP_HOST="city.riverbend.example", **{"wsgi.url_scheme": "https"})
    response = client.get(f"{BASE}/discovery.json", secure=True)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = validate(response.json(), DISCOVERY_SCHEMA)
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "https://city.riverbend.example/open311/v2"
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}

    response = client.get(f"{BASE}/discovery.xml", secure=True)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "https://city.riverbend.example/open311/v2"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "application/json",
        "text/xml",
    ]


def test_services_list_only_active_categories_in_english(client, validate, pothole, vehicle, works):
    make_category(works, "retired", is_active=False)
    response = client.get(f"{BASE}/services.json", {"jurisdiction_id": "riverbend.ca.us"})
    assert response.status_code == 200
    data = validate(response.json(), "services.json")
    by_code = {service["service_code"]: service for service in data}
    assert set(by_code) == {"pothole", "abandoned-vehicle"}
    assert by_code["pothole"] == {
        "service_code": "pothole",
        "service_name": "Pothole",
        "description": "Report a pothole.",
        "metadata": False,
        "type": "realtime",
        "keywords": "street, road",
        "group": "Streets",
    }
    assert by_code["abandoned-vehicle"]["metadata"] is True
    # Spanish browsers still get the English API.
    spanish = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="es")
    assert "Bache" not in spanish.content.decode()


def test_services_xml_uses_the_spec_element_names(client, pothole, vehicle):
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == 2
    by_code = {s.findtext("service_code"): s for s in services}
    assert by_code["abandoned-vehicle"].findtext("metadata") == "true"
    assert by_code["pothole"].findtext("metadata") == "false"
    assert by_code["pothole"].findtext("service_name") == "Pothole"
    assert by_code["pothole"].findtext("type") == "realtime"


def test_service_definition(client, validate, vehicle):
    response = client.get(f"{BASE}/services/abandoned-vehicle.json")
    assert response.status_code == 200
    data = validate(response.json(), "service-definition.json")
    assert data["service_code"] == "abandoned-vehicle"
    assert [a["code"] for a in data["attributes"]] == ["kind", "signs", "days"]
    kind = data["attributes"][0]
    assert kind["variable"] is True
    assert kind["required"] is True
    assert kind["datatype"] == "singlevaluelist"
    assert kind["description"] == "What kind of vehicle?"
    assert kind["values"] == [{"key": "car", "name": "Car"}, {"key": "truck", "name": "Truck"}]

    root = ET.fromstring(client.get(f"{BASE}/services/abandoned-vehicle.xml").content)
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("code") == "kind"
    assert attribute.findtext("variable") == "true"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["car", "truck"]


def test_service_definition_unknown_code_is_404(client, validate, works):
    make_category(works, "retired", is_active=False)
    for code in ("no-such-service", "retired"):
        response = client.get(f"{BASE}/services/{code}.json")
        assert_error(response, 404, validate, containing=f"service_code {code} not found")
    response = client.get(f"{BASE}/services/no-such-service.xml")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert "not found" in root.findtext("error/description")


# --- Submitting ---------------------------------------------------------------------------------


def test_post_lands_in_the_triage_queue_as_open311(client, validate, city, pothole, api_key):
    response = post(
        client,
        api_key=api_key,
        service_code="pothole",
        description="Deep hole, bikes swerve",
        address_string="100 Main Street",
        email=EMAIL,
        phone=PHONE,
        first_name="Pat",
        last_name="Private",
        device_id="device-1",
        account_id="acct-9",
        media_url="https://evil.example/should-not-be-fetched.jpg",
        **DOWNTOWN,
    )
    assert response.status_code == 201, response.content
    data = validate(response.json(), CREATED_SCHEMA)
    assert data[0]["account_id"] is None
    assert "Public Works" in data[0]["service_notice"]
    created = ServiceRequest.objects.get(public_id=data[0]["service_request_id"])
    assert created.source == Source.OPEN311
    assert created.status == RequestStatus.NEW
    assert created.api_key == ApiKey.find(api_key)
    assert created.language == "en"
    assert (created.latitude, created.longitude) == (36.405, -121.3)
    assert created.neighborhood.name == "Downtown"
    assert created.address == "100 Main Street"
    assert created.contact_email == EMAIL
    assert created.contact_phone == "+14155552671"
    assert created.contact_name == "Pat Private"
    assert created.reporter is None


def test_post_xml_answers_in_xml(client, city, pothole, api_key):
    response = post(
        client, "xml", api_key=api_key, service_code="pothole", description="Hole", **DOWNTOWN
    )
    assert response.status_code == 201
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    request_id = root.findtext("request/service_request_id")
    assert ServiceRequest.objects.filter(public_id=request_id).exists()
    assert root.find("request/account_id") is not None


def test_post_is_exempt_from_csrf(city, pothole, api_key):
    client = Client(enforce_csrf_checks=True)
    response = post(client, api_key=api_key, service_code="pothole", description="Hole", **DOWNTOWN)
    assert response.status_code == 201


def test_post_attributes_are_checked_against_the_definition(
    client, validate, city, vehicle, api_key
):
    fields = {"api_key": api_key, "service_code": "abandoned-vehicle", "description": "Old van"}
    missing = post(client, **fields, **DOWNTOWN)
    assert_error(missing, 400, validate, containing="attribute[kind] is required")
    wrong_key = post(client, **fields, **DOWNTOWN, **{"attribute[kind]": "boat"})
    assert_error(wrong_key, 400, validate, containing="must be one of: car, truck")
    wrong_multi = post(
        client,
        **fields,
        **DOWNTOWN,
        **{"attribute[kind]": "car", "attribute[signs][]": ["flat", "fire"]},
    )
    assert_error(wrong_multi, 400, validate, containing="values must be among")
    not_a_number = post(
        client, **fields, **DOWNTOWN, **{"attribute[kind]": "car", "attribute[days]": "many"}
    )
    assert_error(not_a_number, 400, validate, containing="must be a number")

    response = post(
        client,
        **fields,
        **DOWNTOWN,
        **{
            "attribute[kind]": "truck",
            "attribute[signs][]": ["flat", "glass"],
            "attribute[days]": "12",
            "attribute[unknown]": "ignored",
        },
    )
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert created.attributes == {"kind": "truck", "signs": ["flat", "glass"], "days": "12"}


def test_post_unknown_service_code_is_404_and_missing_is_400(
    client, validate, city, works, api_key
):
    make_category(works, "retired", is_active=False)
    for code in ("no-such-service", "retired"):
        response = post(client, api_key=api_key, service_code=code, description="x", **DOWNTOWN)
        assert_error(response, 404, validate, containing=f"service_code {code} not found")
    response = post(client, api_key=api_key, description="x", **DOWNTOWN)
    assert_error(response, 400, validate, containing="service_code is required")


def test_post_without_location_is_400(client, validate, city, pothole, api_key):
    response = post(client, api_key=api_key, service_code="pothole", description="Hole")
    assert_error(response, 400, validate, containing="location is required")
    response = post(
        client, api_key=api_key, service_code="pothole", description="Hole", lat="36.405"
    )
    assert_error(response, 400, validate, containing="both lat and long")


def test_post_by_address_string_or_address_id(client, validate, city, pothole, api_key):
    address = Address.objects.create(line="250 River Road", latitude=36.405, longitude=-121.300)
    response = post(
        client,
        api_key=api_key,
        service_code="pothole",
        description="Hole",
        address_string="250 river road, Riverbend, CA",
    )
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert (created.latitude, created.longitude, created.address) == (
        36.405,
        -121.3,
        "250 River Road",
    )

    by_id = post(
        client, api_key=api_key, service_code="pothole", description="Hole", address_id=address.pk
    )
    assert by_id.status_code == 201, by_id.content

    unknown = post(
        client,
        api_key=api_key,
        service_code="pothole",
        description="Hole",
        address_string="1 Nowhere Lane",
    )
    assert_error(unknown, 400, validate, containing="location not found in the city")


def test_post_outside_the_city_is_400_in_english(client, validate, city, pothole, api_key):
    response = post(
        client,
        api_key=api_key,
        service_code="pothole",
        description="Hole",
        lat="37.7749",
        long="-122.4194",
    )
    assert_error(response, 400, validate, containing="outside the city")
    spanish = client.post(
        f"{BASE}/requests.json",
        data=urlencode(
            {
                "api_key": api_key,
                "service_code": "pothole",
                "description": "Hole",
                "lat": "37.7749",
                "long": "-122.4194",
            }
        ),
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert_error(spanish, 400, validate, containing="outside the city")
    nonsense = post(
        client, api_key=api_key, service_code="pothole", description="Hole", lat="x", long="y"
    )
    assert_error(nonsense, 400, validate, containing="not a valid latitude")
    assert not ServiceRequest.objects.exists()


def test_post_description_over_4000_characters_is_400(client, validate, city, pothole, api_key):
    response = post(
        client, api_key=api_key, service_code="pothole", description="x" * 4001, **DOWNTOWN
    )
    assert_error(response, 400, validate, containing="4,000 characters")
    exactly = post(
        client, api_key=api_key, service_code="pothole", description="x" * 4000, **DOWNTOWN
    )
    assert exactly.status_code == 201


def test_a_bad_email_is_400_but_a_phone_we_cannot_text_is_left_out(
    client, validate, city, pothole, api_key
):
    fields = {"api_key": api_key, "service_code": "pothole", "description": "Hole", **DOWNTOWN}
    assert_error(post(client, **fields, email="not-an-email"), 400, validate, containing="email")
    response = post(client, **fields, phone="12")
    assert response.status_code == 201
    created = ServiceRequest.objects.get(public_id=response.json()[0]["service_request_id"])
    assert created.contact_phone == ""


def test_a_category_needing_a_signed_in_resident_is_not_offered_to_api_clients(
    client, validate, city, works, api_key
):
    make_category(works, "noise", allow_anonymous=False)
    listed = {s["service_code"] for s in client.get(f"{BASE}/services.json").json()}
    assert "noise" not in listed
    assert client.get(f"{BASE}/services/noise.json").status_code == 404
    response = post(client, api_key=api_key, service_code="noise", description="Loud", **DOWNTOWN)
    assert_error(response, 404, validate, containing="service_code noise not found")
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("which", ["missing", "unknown", "revoked"])
def test_post_needs_a_valid_api_key(client, validate, city, pothole, api_key, which):
    fields = {"service_code": "pothole", "description": "Hole", **DOWNTOWN}
    if which == "unknown":
        fields["api_key"] = "not-a-key-we-issued"
    elif which == "revoked":
        ApiKey.objects.update(revoked_at=timezone.now())
        fields["api_key"] = api_key
    response = post(client, **fields)
    assert_error(response, 403, validate, containing="api_key")
    assert not ServiceRequest.objects.exists()


def test_rate_limit_per_key_answers_429(client, validate, city, pothole, monkeypatch):
    _key, raw = ApiKey.issue(
        name="Busy app", contact_email="busy@app.example", requests_per_minute=3
    )
    _other, other_raw = ApiKey.issue(name="Quiet app", contact_email="quiet@app.example")
    fields = {"service_code": "pothole", "description": "Hole", **DOWNTOWN}
    # A fixed one-minute window: the clock stays in the middle of one minute.
    monkeypatch.setattr(open311, "_now", lambda: 1_800_000_030.0)
    for _ in range(3):
        assert post(client, api_key=raw, **fields).status_code == 201
    response = post(client, api_key=raw, **fields)
    description = assert_error(response, 429, validate, containing="rate limit")
    assert "3 requests per minute" in description
    assert response["Retry-After"] == "30"
    assert ServiceRequest.objects.count() == 3
    # Another key has its own count.
    assert post(client, api_key=other_raw, **fields).status_code == 201


def test_json_body_is_refused(client, validate, pothole, api_key):
    response = client.post(
        f"{BASE}/requests.json",
        data={"api_key": api_key, "service_code": "pothole"},
        content_type="application/json",
    )
    assert_error(response, 400, validate, containing="x-www-form-urlencoded")


# --- Reading ------------------------------------------------------------------------------------


def test_get_requests_validates_and_has_the_spec_fields(client, validate, pothole, settings):
    settings.SITE_URL = "https://city.riverbend.example"
    sr = make_request(pothole, status_notes="Crew scheduled")
    RequestPhoto.objects.create(request=sr, image="requests/2026/11/hidden.jpg", hidden=True)
    shown = RequestPhoto.objects.create(request=sr, image="requests/2026/11/shown.jpg")
    response = client.get(f"{BASE}/requests.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    data = validate(response.json(), "requests.json")
    assert len(data) == 1
    item = data[0]
    assert item["service_request_id"] == sr.public_id
    assert item["status"] == "open"
    assert item["status_notes"] == "Crew scheduled"
    assert item["service_name"] == "Pothole"
    assert item["service_code"] == "pothole"
    assert item["agency_responsible"] == "Public Works"
    assert (item["lat"], item["long"], item["address"]) == (36.405, -121.3, "100 Main Street")
    assert item["address_id"] is None and item["zipcode"] is None
    # The public photo view, which never serves a hidden photo (not the storage URL).
    assert (
        item["media_url"]
        == f"https://city.riverbend.example/requests/{sr.public_id}/photos/{shown.pk}.jpg"
    )
    assert item["expected_datetime"] is None  # no resolve_due on this row
    requested = datetime.fromisoformat(item["requested_datetime"])
    assert requested.tzinfo is not None
    assert abs(requested - sr.created_at) < timedelta(seconds=1)


def test_expected_datetime_is_the_end_of_the_resolve_due_day(client, validate, pothole):
    due = timezone.localdate() + timedelta(days=10)
    make_request(pothole, resolve_due=due)
    item = validate(client.get(f"{BASE}/requests.json").json(), "requests.json")[0]
    expected = datetime.fromisoformat(item["expected_datetime"])
    assert timezone.localtime(expected).date() == due
    assert (expected.hour, expected.minute) == (23, 59)


def test_default_window_is_90_days(client, validate, pothole):
    recent = make_request(pothole, days_ago=89)
    old = make_request(pothole, days_ago=91)

    def ids(**params):
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code == 200, response.content
        return [item["service_request_id"] for item in validate(response.json(), "requests.json")]

    assert ids() == [recent.public_id]
    ago = lambda days: (timezone.now() - timedelta(days=days)).isoformat()  # noqa: E731
    # An explicit window still finds the old one.
    assert ids(start_date=ago(100), end_date=ago(90)) == [old.public_id]
    # Only start_date: the 90 days after it. Only end_date: the 90 days before it.
    assert ids(start_date=ago(92)) == [recent.public_id, old.public_id]
    assert ids(start_date=ago(200)) == []
    assert ids(end_date=ago(90)) == [old.public_id]


def test_date_range_over_90_days_is_400(client, validate, pothole):
    params = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}
    response = client.get(f"{BASE}/requests.json", params)
    assert_error(response, 400, validate, containing="90 days")
    # Dates alone are accepted; exactly 90 days is allowed.
    ok = client.get(f"{BASE}/requests.json", {"start_date": "2026-01-01", "end_date": "2026-04-01"})
    assert ok.status_code == 200
    backwards = client.get(
        f"{BASE}/requests.json", {"start_date": "2026-04-01", "end_date": "2026-01-01"}
    )
    assert_error(backwards, 400, validate, containing="before start_date")
    invalid = client.get(f"{BASE}/requests.json", {"start_date": "last tuesday"})
    assert_error(invalid, 400, validate, containing="start_date is not a valid")


def test_unescaped_plus_in_a_date_is_understood(client, pothole):
    sr = make_request(pothole, days_ago=5)
    start = (timezone.now() - timedelta(days=6)).astimezone(UTC).replace(microsecond=0)
    # "+" not percent-encoded arrives as a space.
    query = "start_date=" + start.isoformat().replace("+", "%20")
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 200, response.content
    assert [item["service_request_id"] for item in response.json()] == [sr.public_id]


def test_at_most_1000_requests_newest_first(client, validate, pothole):
    now = timezone.now()
    ServiceRequest.objects.bulk_create(
        ServiceRequest(
            category=pothole,
            description=f"Hole {i}",
            latitude=36.405,
            longitude=-121.3,
            created_at=now - timedelta(minutes=i),
        )
        for i in range(1001)
    )
    response = client.get(f"{BASE}/requests.json")
    data = validate(response.json(), "requests.json")
    assert len(data) == 1000
    assert data[0]["description"] == "Hole 0"
    assert data[-1]["description"] == "Hole 999"


def test_listing_takes_a_fixed_number_of_queries(
    client, pothole, vehicle, django_assert_max_num_queries
):
    for i in range(20):
        sr = make_request(pothole if i % 2 else vehicle, days_ago=i)
        RequestPhoto.objects.create(request=sr, image=f"requests/2026/11/{i}.jpg")
    with django_assert_max_num_queries(2):
        assert len(client.get(f"{BASE}/requests.json").json()) == 20


def test_status_and_service_code_filters(client, validate, pothole, vehicle, works):
    open_one = make_request(pothole)
    acknowledged = make_request(vehicle, status=RequestStatus.ACKNOWLEDGED)
    closed = make_request(
        pothole,
        status=RequestStatus.CLOSED,
        resolution=Resolution.RESOLVED,
        closed_at=timezone.now(),
        status_notes="Filled",
    )

    def ids(**params):
        response = client.get(f"{BASE}/requests.json", params)
        assert response.status_code == 200, response.content
        return {item["service_request_id"] for item in validate(response.json(), "requests.json")}

    assert ids(status="open") == {open_one.public_id, acknowledged.public_id}
    assert ids(status="closed") == {closed.public_id}
    assert ids(status="open,closed") == {
        open_one.public_id,
        acknowledged.public_id,
        closed.public_id,
    }
    assert ids(service_code="pothole") == {open_one.public_id, closed.public_id}
    assert ids(service_code="pothole,abandoned-vehicle", status="open") == {
        open_one.public_id,
        acknowledged.public_id,
    }
    closed_item = client.get(f"{BASE}/requests.json", {"status": "closed"}).json()[0]
    assert closed_item["status"] == "closed"
    assert closed_item["status_notes"] == "Filled"
    assert_error(client.get(f"{BASE}/requests.json", {"status": "pending"}), 400, validate)


def test_service_request_id_overrides_other_filters(client, validate, pothole):
    first = make_request(pothole)
    second = make_request(pothole, days_ago=200)  # outside any default window
    make_request(pothole)
    params = {
        "service_request_id": f"{first.public_id}, {second.public_id.lower()}",
        "status": "closed",
        "start_date": "2000-01-01T00:00:00Z",
        "end_date": "2000-01-02T00:00:00Z",
    }
    data = validate(client.get(f"{BASE}/requests.json", params).json(), "requests.json")
    assert {item["service_request_id"] for item in data} == {first.public_id, second.public_id}


def test_get_one_request_and_unknown_id(client, validate, pothole):
    sr = make_request(pothole)
    response = client.get(f"{BASE}/requests/{sr.public_id}.json")
    assert response.status_code == 200
    data = validate(response.json(), "requests.json")
    assert len(data) == 1 and data[0]["service_request_id"] == sr.public_id
    assert_error(
        client.get(f"{BASE}/requests/NOPE1234.json"), 404, validate, containing="not found"
    )


def test_xml_requests_use_the_spec_element_names(client, pothole, unsafe_building):
    sr = make_request(pothole)
    make_request(pothole, description="Control \x0b character", latitude=36.4052)
    response = client.get(f"{BASE}/requests.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert len(requests) == 2
    by_id = {r.findtext("service_request_id"): r for r in requests}
    item = by_id[sr.public_id]
    for name in (
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ):
        assert item.find(name) is not None, name
    assert item.findtext("lat") == "36.405"
    assert item.findtext("long") == "-121.3"
    assert item.findtext("status") == "open"
    one = ET.fromstring(client.get(f"{BASE}/requests/{sr.public_id}.xml").content)
    assert one.tag == "service_requests"
    assert one.findtext("request/service_request_id") == sr.public_id


def test_private_categories_are_never_served(client, validate, pothole, unsafe_building):
    """A private (sensitive) category's requests do not leave City Hall through the API."""
    sr = make_request(
        unsafe_building, address="12 Secret Street", latitude=36.4051, longitude=-121.3012
    )
    RequestPhoto.objects.create(request=sr, image="requests/2026/11/house.jpg")
    assert validate(client.get(f"{BASE}/requests.json").json(), "requests.json") == []
    assert client.get(f"{BASE}/requests/{sr.public_id}.json").status_code == 404
    xml = client.get(f"{BASE}/requests.xml").content.decode()
    for private in (sr.public_id, "12 Secret Street", "36.4051", "-121.3012", "house.jpg"):
        assert private not in xml


def test_contact_details_never_appear_in_get_output(client, city, pothole, api_key):
    response = post(
        client,
        api_key=api_key,
        service_code="pothole",
        description="Hole by the school",
        email=EMAIL,
        phone=PHONE,
        first_name="Pat",
        last_name="Private",
        **DOWNTOWN,
    )
    public_id = response.json()[0]["service_request_id"]
    for url in (
        f"{BASE}/requests.json",
        f"{BASE}/requests.xml",
        f"{BASE}/requests/{public_id}.json",
        f"{BASE}/requests/{public_id}.xml",
        f"{BASE}/tokens/{public_id}.json",
    ):
        body = client.get(url).content.decode()
        assert public_id in body, url
        for private in (
            EMAIL,
            "reporter.private",
            PHONE_DIGITS,
            "555 2671",
            "Pat Private",
            "Private",
        ):
            assert private not in body, (url, private)


def test_tokens_resolve_to_the_request_id(client, validate, pothole):
    sr = make_request(pothole)
    response = client.get(f"{BASE}/tokens/{sr.public_id}.json")
    assert response.status_code == 200
    token_schema = {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "swagger.json#/definitions/TokenResponse"},
    }
    data = validate(response.json(), token_schema)
    assert data == [{"service_request_id": sr.public_id, "token": sr.public_id}]
    root = ET.fromstring(client.get(f"{BASE}/tokens/{sr.public_id}.xml").content)
    assert root.tag == "service_requests"
    assert root.findtext("request/token") == sr.public_id
    assert_error(client.get(f"{BASE}/tokens/UNKNOWN1.json"), 404, validate, containing="not found")


def test_wrong_method_is_405_in_the_error_format(client, validate, pothole):
    response = client.post(f"{BASE}/services.json")
    assert_error(response, 405, validate, containing="use GET")
    assert "GET" in response["Allow"]
    response = client.delete(f"{BASE}/requests.json")
    assert_error(response, 405, validate)
