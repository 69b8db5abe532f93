"""BLDS open data, read the way a permit-data aggregator reads it: CSV and JSON, conditional GET
and HEAD, every mapped value checked against the published vocabularies (standards/blds/)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone

from permits import services
from permits.models import Application
from permits.tests.factories import make_application, make_inspection_type, make_permit_type

pytestmark = pytest.mark.django_db

STANDARD = json.loads(
    (Path(__file__).resolve().parents[2] / "standards" / "blds" / "vocabularies.json").read_text()
)
VOCABULARIES = STANDARD["vocabularies"]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_FIELDS = {"AppliedDate", "IssuedDate", "CompletedDate", "StatusDate", "ExpiresDate"}


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(response))))


@pytest.fixture
def city(alice):
    """Building permits of several kinds in every status, a licence, a filming permit and a
    draft withdrawn before it was ever submitted."""
    electrical = make_permit_type(
        "ELE", blds_type="Electrical", blds_class="Non-Residential", blds_work_class="New"
    )
    fence = make_permit_type("FEN", blds_type="Fence")
    final = make_inspection_type("final")
    building = make_permit_type("BLD", inspection_types=[final])
    licence = make_permit_type("BUS", kind="license")
    film = make_permit_type("FLM", blds_type="")
    records = {}
    for status in ("submitted", "in_review", "approved", "issued", "denied", "revoked",
                   "withdrawn", "expired", "finaled"):  # fmt: skip
        records[status] = make_application(
            alice,
            building,
            status=status,
            address=f"{len(records) + 1} Vocabulary Way",
            total_sq_ft=640,
            housing_units=1,
            parcel_number="012-345-067",
            contractor_name="Valle Builders Inc.",
            contractor_license="1048217",
        )
    inspected = make_application(alice, building, status="issued", address="30 Vocabulary Way")
    services.inspection_request(
        application=inspected, actor=alice, inspection_type=final, preferred_dates="Any"
    )
    records["inspection phase"] = inspected
    records["electrical"] = make_application(alice, electrical, status="issued")
    records["fence"] = make_application(alice, fence, status="submitted")
    records["licence"] = make_application(alice, licence, status="issued", business_name="Taco Sol")
    records["film"] = make_application(alice, film, status="submitted")
    never_submitted = make_application(alice, building, address="77 Never Lane")
    services.application_withdraw(application=never_submitted, actor=alice)
    records["never submitted"] = never_submitted
    return records


def test_every_field_and_value_is_the_standards(client, city):
    response = client.get("/open-data/permits.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    header = list(rows[0])
    for field in STANDARD["required_fields"] + STANDARD["recommended_fields"]:
        assert field in header, f"{field} is missing"
    for row in rows:
        assert row["PermitNum"], row  # never a row without a number
        assert row["AppliedDate"] or row["IssuedDate"]
        assert row["CompletedDate"] or row["StatusCurrent"]
        for field, allowed in VOCABULARIES.items():
            if row[field]:
                assert row[field] in allowed, (field, row[field])
        for field in DATE_FIELDS:
            assert not row[field] or DATE.match(row[field]), (field, row[field])
    by_number = {row["PermitNum"]: row for row in rows}
    mapped = {name: by_number[app.number]["StatusCurrentMapped"] for name, app in city.items()
              if app.number in by_number}  # fmt: skip
    assert mapped["submitted"] == "Application Accepted"
    assert mapped["in_review"] == mapped["approved"] == "In Review"
    assert mapped["issued"] == "Permit Issued"
    assert mapped["inspection phase"] == "Inspection Phase"
    assert mapped["finaled"] == "Permit Finaled"
    for ending in ("denied", "revoked", "withdrawn", "expired"):
        assert mapped[ending] == "Permit Cancelled", ending
    electrical = by_number[city["electrical"].number]
    assert (electrical["PermitTypeMapped"], electrical["PermitClassMapped"]) == (
        "Electrical",
        "Non-Residential",
    )
    assert electrical["WorkClassMapped"] == "New"
    issued = by_number[city["issued"].number]
    assert issued["TotalSqFt"] == "640" and issued["HousingUnits"] == "1"
    assert issued["PIN"] == "012-345-067"
    assert issued["ContractorCompanyName"] == "Valle Builders Inc."
    assert (issued["ContractorLicNum"], issued["ContractorStateLic"]) == ("1048217", "CA")
    assert issued["ContractorTradeMapped"] == "General"
    assert issued["PermitTypeDesc"]
    assert issued["StatusDate"] == issued["IssuedDate"] == timezone.localdate().isoformat()
    finaled = by_number[city["finaled"].number]
    assert finaled["StatusDate"] == finaled["CompletedDate"]
    # Licences and permits that are not building permits are not in the building dataset.
    for name in ("licence", "film"):
        assert city[name].number not in by_number
    assert "77 Never Lane" not in _body(client.get("/open-data/permits.csv"))


def test_licences_have_their_own_dataset(client, city):
    rows = _csv(client.get("/open-data/licenses.csv"))
    numbers = {row["LicenseNum"] for row in rows}
    assert numbers == {city["licence"].number, city["film"].number}
    licence = next(row for row in rows if row["LicenseNum"] == city["licence"].number)
    assert licence["BusinessName"] == "Taco Sol" and licence["Kind"] == "License"
    assert "alice@example.com" not in _body(client.get("/open-data/licenses.csv"))


def test_the_json_variant_has_the_same_rows_typed(client, city):
    csv_rows = _csv(client.get("/open-data/permits.csv"))
    response = client.get("/open-data/permits.json")
    assert response["Content-Type"].startswith("application/json")
    items = json.loads(_body(response))
    assert [item["PermitNum"] for item in items] == [row["PermitNum"] for row in csv_rows]
    issued = next(item for item in items if item["PermitNum"] == city["issued"].number)
    assert issued["TotalSqFt"] == 640 and isinstance(issued["Latitude"], float | None)
    assert issued["CompletedDate"] is None  # empty values are null, not ""
    licences = json.loads(_body(client.get("/open-data/licenses.json")))
    assert {item["LicenseNum"] for item in licences} == {
        city["licence"].number,
        city["film"].number,
    }


@pytest.mark.parametrize("path", ["/open-data/permits.csv", "/open-data/licenses.json"])
def test_pollers_download_only_what_changed(client, city, alice, path):
    first = client.get(path)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag and modified
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    head = client.head(path)
    assert head.status_code == 200 and head["ETag"] == etag
    body = b"".join(head.streaming_content) if head.streaming else head.content
    assert body == b""
    # A change to the dataset changes its validators.
    changed = city["submitted"] if "permits" in path else city["film"]
    Application.objects.filter(pk=changed.pk).update(updated_at=timezone.now())
    fresh = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag


def test_post_is_not_allowed(client, city):
    assert client.post("/open-data/permits.csv").status_code == 405
