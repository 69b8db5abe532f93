"""CAP 1.2 messages and the Atom feed: valid against the OASIS schema, bilingual, lat,lon order."""

from __future__ import annotations

import datetime
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from alerts.atom import alerts_atom_feed
from alerts.cap import alert_to_cap
from alerts.constants import AlertStatus, Category, MessageType, Severity, Urgency
from alerts.models import Alert, Topic
from cityhall.models import Neighborhood

# Kept in the repository (standards/README.md says where it comes from).
CAP_XSD = Path(__file__).resolve().parents[2] / "standards" / "cap" / "CAP-v1.2.xsd"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
SITE_URL = "https://riverbend.example"

PUBLISHED = datetime.datetime(2025, 7, 4, 16, 30, 15, 123456, tzinfo=datetime.UTC)
PUBLISHED_CAP = "2025-07-04T09:30:15-07:00"  # Pacific daylight time, no fraction, no "Z"

# GeoJSON positions are [longitude, latitude].
OLD_TOWN = {
    "type": "Polygon",
    "coordinates": [
        [[-121.50, 38.50], [-121.48, 38.50], [-121.48, 38.52], [-121.50, 38.52], [-121.50, 38.50]]
    ],
}
RIVERSIDE = {
    "type": "Polygon",
    "coordinates": [
        [[-121.47, 38.53], [-121.45, 38.53], [-121.46, 38.55], [-121.47, 38.53]],
        # A hole, which CAP cannot express and the message leaves out.
        [[-121.462, 38.535], [-121.458, 38.535], [-121.46, 38.54], [-121.462, 38.535]],
    ],
}
ISLANDS = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[-121.40, 38.45], [-121.39, 38.45], [-121.39, 38.46], [-121.40, 38.45]]],
        [[[-121.38, 38.44], [-121.37, 38.44], [-121.37, 38.43], [-121.38, 38.44]]],
    ],
}


@pytest.fixture(scope="session")
def cap_schema() -> xmlschema.XMLSchema:
    if not CAP_XSD.is_file():
        pytest.fail(f"The CAP 1.2 schema is missing: expected {CAP_XSD} (see standards/README.md).")
    return xmlschema.XMLSchema(str(CAP_XSD))


def assert_valid(schema: xmlschema.XMLSchema, document: bytes) -> None:
    errors = [str(error) for error in schema.iter_errors(io.BytesIO(document))]
    assert not errors, "CAP message is not valid CAP 1.2:\n" + "\n\n".join(errors)


@pytest.fixture
def topic(db):
    return Topic.objects.create(slug="water", name_en="Water", name_es="Agua")


@pytest.fixture
def neighborhoods(db):
    return [
        Neighborhood.objects.create(name="Old Town", slug="old-town", boundary=OLD_TOWN),
        Neighborhood.objects.create(name="Riverside", slug="riverside", boundary=RIVERSIDE),
    ]


def make_alert(topic, *, spanish=True, **fields) -> Alert:
    values = {
        "topic": topic,
        "status": AlertStatus.PUBLISHED,
        "published_at": PUBLISHED,
        "title_en": "Boil water advisory",
        "body_en": "A main broke on River Road. Tap water may be contaminated.",
        "instruction_en": "Boil tap water for one minute before drinking it.",
        "category": Category.HEALTH,
        "event": "Boil water advisory",
        "urgency": Urgency.IMMEDIATE,
        "severity": Severity.SEVERE,
        "effective": PUBLISHED,
        "onset": PUBLISHED + datetime.timedelta(minutes=5),
        "expires": PUBLISHED + datetime.timedelta(days=2),
    }
    if spanish:
        values |= {
            "title_es": "Aviso de hervir el agua",
            "body_es": "Se rompió una tubería en River Road. El agua puede estar contaminada.",
            "instruction_es": "Hierva el agua del grifo un minuto antes de beberla.",
        }
    values |= fields
    return Alert.objects.create(**values)


def parse(document: bytes) -> ET.Element:
    assert document.startswith(b"<?xml"), "the document starts with an XML declaration"
    return ET.fromstring(document)


def text(element: ET.Element, path: str) -> str | None:
    return element.findtext(path.replace("cap:", CAP))


def polygon_pairs(polygon: str) -> list[tuple[float, float]]:
    return [tuple(float(number) for number in pair.split(",")) for pair in polygon.split(" ")]


def as_lat_lon(ring: list[list[float]]) -> list:
    """A GeoJSON ring as the (lat, lon) pairs CAP should carry, to within 1e-6 degrees."""
    return [pytest.approx((lat, lon), rel=0, abs=1e-6) for lon, lat in ring]


@pytest.mark.django_db
def test_citywide_bilingual_alert_is_valid_cap(cap_schema, topic, neighborhoods):
    alert = make_alert(topic)
    document = alert_to_cap(alert, site_url=SITE_URL)
    assert_valid(cap_schema, document)

    root = parse(document)
    assert root.tag == f"{CAP}alert"
    assert text(root, "cap:identifier") == alert.identifier
    assert text(root, "cap:sender") == "cityhall@riverbend.example"
    assert text(root, "cap:sent") == PUBLISHED_CAP
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:msgType") == "Alert"
    assert text(root, "cap:scope") == "Public"
    assert root.find(f"{CAP}references") is None

    for info in root.findall(f"{CAP}info"):
        assert text(info, "cap:area/cap:areaDesc") == "City of Riverbend"
        assert text(info, "cap:effective") == PUBLISHED_CAP
        assert text(info, "cap:onset") == "2025-07-04T09:35:15-07:00"
        assert text(info, "cap:expires") == "2025-07-06T09:30:15-07:00"
        # The city's bounding box, from every neighborhood: south 38.50, north 38.55,
        # west -121.50, east -121.45.
        (polygon,) = info.findall(f"{CAP}area/{CAP}polygon")
        pairs = polygon_pairs(polygon.text)
        assert pairs[0] == pairs[-1] and len(pairs) == 5
        assert sorted({lat for lat, _lon in pairs}) == [38.50, 38.55]
        assert sorted({lon for _lat, lon in pairs}) == [-121.50, -121.45]


@pytest.mark.django_db
def test_citywide_alert_without_neighborhoods_has_no_polygon(cap_schema, topic):
    document = alert_to_cap(make_alert(topic), site_url=SITE_URL)
    assert_valid(cap_schema, document)
    area = parse(document).find(f"{CAP}info/{CAP}area")
    assert text(area, "cap:areaDesc") == "City of Riverbend"
    assert area.find(f"{CAP}polygon") is None


@pytest.mark.django_db
def test_neighborhood_alert_has_one_polygon_per_neighborhood_in_lat_lon_order(
    cap_schema, topic, neighborhoods
):
    alert = make_alert(topic, citywide=False)
    alert.neighborhoods.set(neighborhoods)
    document = alert_to_cap(alert, site_url=SITE_URL)
    assert_valid(cap_schema, document)

    area = parse(document).find(f"{CAP}info/{CAP}area")
    assert text(area, "cap:areaDesc") == "Old Town, Riverside"
    polygons = [polygon_pairs(p.text) for p in area.findall(f"{CAP}polygon")]
    expected = [as_lat_lon(OLD_TOWN["coordinates"][0]), as_lat_lon(RIVERSIDE["coordinates"][0])]
    assert len(polygons) == 2, "one polygon per neighborhood; Riverside's hole is left out"
    for pairs, ring in zip(polygons, expected, strict=True):
        assert pairs == ring
        assert pairs[0] == pairs[-1] and len(pairs) >= 4
        assert all(38 < lat < 39 and -122 < lon < -121 for lat, lon in pairs), "latitude first"


@pytest.mark.django_db
def test_multipolygon_neighborhood_gives_one_polygon_per_part(cap_schema, topic):
    islands = Neighborhood.objects.create(name="The Islands", slug="islands", boundary=ISLANDS)
    alert = make_alert(topic, citywide=False)
    alert.neighborhoods.set([islands])
    document = alert_to_cap(alert, site_url=SITE_URL)
    assert_valid(cap_schema, document)

    for info in parse(document).findall(f"{CAP}info"):
        polygons = info.findall(f"{CAP}area/{CAP}polygon")
        assert [polygon_pairs(p.text) for p in polygons] == [
            as_lat_lon(part[0]) for part in ISLANDS["coordinates"]
        ]


@pytest.mark.django_db
def test_english_only_alert_has_one_info_block(cap_schema, topic):
    alert = make_alert(topic, spanish=False, english_only=True, instruction_en="")
    document = alert_to_cap(alert, site_url=SITE_URL)
    assert_valid(cap_schema, document)

    (info,) = parse(document).findall(f"{CAP}info")
    assert text(info, "cap:language") == "en-US"
    assert text(info, "cap:headline") == "Boil water advisory"
    assert info.find(f"{CAP}instruction") is None, "no empty instruction"
    assert text(info, "cap:web") == f"{SITE_URL}/alerts/{alert.pk}/"


@pytest.mark.django_db
def test_bilingual_alert_has_english_and_spanish_info_blocks(cap_schema, topic):
    alert = make_alert(topic)
    document = alert_to_cap(alert, site_url=SITE_URL + "/")
    assert_valid(cap_schema, document)

    english, spanish = parse(document).findall(f"{CAP}info")
    assert text(english, "cap:language") == "en-US"
    assert text(spanish, "cap:language") == "es-US"
    assert text(english, "cap:headline") == "Boil water advisory"
    assert text(spanish, "cap:headline") == "Aviso de hervir el agua"
    assert text(spanish, "cap:description").startswith("Se rompió una tubería")
    assert text(spanish, "cap:instruction").startswith("Hierva el agua")
    assert text(english, "cap:event") == text(spanish, "cap:event") == "Boil water advisory"
    assert text(english, "cap:web") == f"{SITE_URL}/alerts/{alert.pk}/"
    assert text(spanish, "cap:web") == f"{SITE_URL}/es/alerts/{alert.pk}/"
    for info in (english, spanish):
        assert text(info, "cap:category") == "Health"
        assert text(info, "cap:responseType") == "Monitor"
        assert text(info, "cap:urgency") == "Immediate"
        assert text(info, "cap:severity") == "Severe"
        assert text(info, "cap:certainty") == "Likely"
        assert text(info, "cap:senderName") == "City of Riverbend"
        assert text(info, "cap:contact") == "(555) 010-4400"


@pytest.mark.django_db
def test_update_references_the_original(cap_schema, topic):
    original = make_alert(topic)
    update = make_alert(
        topic,
        msg_type=MessageType.UPDATE,
        references=original,
        published_at=datetime.datetime(2025, 12, 1, 18, 0, tzinfo=datetime.UTC),
        effective=datetime.datetime(2025, 12, 1, 18, 0, tzinfo=datetime.UTC),
        expires=datetime.datetime(2025, 12, 3, 18, 0, tzinfo=datetime.UTC),
        onset=None,
    )
    document = alert_to_cap(update, site_url=SITE_URL)
    assert_valid(cap_schema, document)

    root = parse(document)
    assert text(root, "cap:msgType") == "Update"
    assert text(root, "cap:sent") == "2025-12-01T10:00:00-08:00"  # standard time in December
    assert text(root, "cap:references") == (
        f"cityhall@riverbend.example,{original.identifier},{PUBLISHED_CAP}"
    )
    assert root.find(f"{CAP}info/{CAP}onset") is None


@pytest.mark.django_db
def test_sender_is_the_installations_whatever_the_site_url(cap_schema, topic, settings):
    """Alert identities do not follow the web address: the sender (and so every reference)
    is CAP_SENDER, made CAP-safe."""
    alert = make_alert(topic)
    senders = {
        text(parse(alert_to_cap(alert, site_url=url)), "cap:sender")
        for url in ("http://127.0.0.1:8000", "https://cityhall.riverbend.example")
    }
    assert senders == {"cityhall@riverbend.example"}
    settings.CAP_SENDER = "city hall,<alerts>@riverbend.example"
    document = alert_to_cap(alert, site_url="http://127.0.0.1:8000")
    assert_valid(cap_schema, document)
    assert not set(text(parse(document), "cap:sender")) & set(" ,<&")


@pytest.mark.django_db
def test_atom_feed_lists_each_alert_with_its_cap_link(topic):
    alerts = [
        make_alert(topic),
        make_alert(topic, spanish=False, title_en="Road closed", body_en="x" * 400),
    ]
    feed_url = f"{SITE_URL}/alerts/feed/"
    document = alerts_atom_feed(alerts, site_url=SITE_URL, feed_url=feed_url, updated=PUBLISHED)

    feed = ET.fromstring(document)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "tag:riverbend.example,2026:alerts"
    assert feed.findtext(f"{ATOM}title") == "City of Riverbend alerts"
    assert feed.findtext(f"{ATOM}updated") == PUBLISHED_CAP
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "City of Riverbend"
    assert feed.findtext(f"{ATOM}author/{ATOM}email") == "cityhall@riverbend.example"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": feed_url, "alternate": f"{SITE_URL}/alerts/"}

    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(alerts)
    for entry, alert in zip(entries, alerts, strict=True):
        page_url = f"{SITE_URL}/alerts/{alert.pk}/"
        assert entry.findtext(f"{ATOM}id") == (
            f"tag:riverbend.example,2026:alert:{alert.identifier}"
        )
        assert entry.findtext(f"{ATOM}title") == alert.title_en
        assert entry.findtext(f"{ATOM}published") == PUBLISHED_CAP
        assert entry.find(f"{ATOM}category").get("term") == "Health"
        by_type = {link.get("type"): link for link in entry.findall(f"{ATOM}link")}
        assert by_type["text/html"].get("href") == page_url
        cap_link = by_type["application/cap+xml"]
        assert cap_link.get("rel") == "alternate"
        assert cap_link.get("href") == f"{SITE_URL}/alerts/{alert.pk}/cap.xml"
        assert cap_link.get("href").endswith("/cap.xml")
    assert entries[1].findtext(f"{ATOM}summary") == "x" * 300
