"""Alerts read the way aggregators and alerting systems read them: an Atom poller that sends
conditional requests and HEAD, CAP parsers that check the schema (and, when the installation
turns it on, the IPAWS profile), and both languages."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
import xmlschema
from django.utils import timezone

from alerts.constants import AlertStatus, Category, Severity, Urgency
from alerts.models import Alert, Topic

pytestmark = pytest.mark.django_db

STANDARDS = Path(__file__).resolve().parents[2] / "standards" / "cap"
ATOM = "{http://www.w3.org/2005/Atom}"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


@pytest.fixture(scope="module")
def cap_xsd():
    return xmlschema.XMLSchema(str(STANDARDS / "CAP-v1.2.xsd"))


@pytest.fixture(scope="module")
def ipaws_xsd():
    return xmlschema.XMLSchema(str(STANDARDS / "capv1.2-ipaws-profile-v1.0-pr02.xsd"))


def _valid(schema, document: bytes) -> None:
    errors = [str(error) for error in schema.iter_errors(io.BytesIO(document))]
    assert not errors, "\n\n".join(errors)


def _alert(topic, **fields) -> Alert:
    now = timezone.now()
    values = {
        "topic": topic,
        "status": AlertStatus.PUBLISHED,
        "published_at": now - timedelta(hours=1),
        "title_en": "Boil water advisory for Eastgate",
        "title_es": "Aviso de hervir el agua en Eastgate",
        "body_en": "A main broke. Boil tap water.",
        "body_es": "Se rompió una tubería. Hierva el agua.",
        "category": Category.HEALTH,
        "event": "Boil water advisory",
        "event_es": "Aviso de hervir el agua",
        "urgency": Urgency.IMMEDIATE,
        "severity": Severity.SEVERE,
        "effective": now - timedelta(hours=1),
        "expires": now + timedelta(days=1),
    }
    values |= fields
    return Alert.objects.create(**values)


@pytest.fixture
def alerts(db):
    topic = Topic.objects.create(slug="water", name_en="Water", name_es="Agua")
    now = timezone.now()
    return {
        "active": _alert(topic),
        "expired yesterday": _alert(
            topic,
            status=AlertStatus.EXPIRED,
            title_en="Heat warning yesterday",
            published_at=now - timedelta(days=2),
            effective=now - timedelta(days=2),
            expires=now - timedelta(hours=20),
        ),
        "expired last month": _alert(
            topic,
            status=AlertStatus.EXPIRED,
            title_en="Heat warning last month",
            published_at=now - timedelta(days=33),
            effective=now - timedelta(days=33),
            expires=now - timedelta(days=31),
        ),
    }


def _entries(response) -> dict[str, ET.Element]:
    feed = ET.fromstring(response.content)
    return {entry.findtext(f"{ATOM}title"): entry for entry in feed.findall(f"{ATOM}entry")}


def test_expired_alerts_leave_the_feed_after_48_hours_but_keep_their_cap(client, alerts):
    entries = _entries(client.get("/alerts/feed.atom"))
    assert "Boil water advisory for Eastgate" in entries
    assert "Heat warning yesterday" in entries
    assert "Heat warning last month" not in entries
    old = alerts["expired last month"]
    assert client.get(f"/alerts/{old.pk}/cap.xml").status_code == 200


def test_ids_do_not_change_with_the_web_address(client, alerts, settings):
    first = client.get("/alerts/feed.atom")
    settings.SITE_URL = "https://cityhall.riverbend.example"
    second = client.get("/alerts/feed.atom")
    ids = [
        [e.findtext(f"{ATOM}id") for e in ET.fromstring(r.content).iter(f"{ATOM}entry")]
        for r in (first, second)
    ]
    assert ids[0] == ids[1]
    assert ET.fromstring(first.content).findtext(f"{ATOM}id") == (
        ET.fromstring(second.content).findtext(f"{ATOM}id")
    )
    cap = ET.fromstring(client.get(f"/alerts/{alerts['active'].pk}/cap.xml").content)
    assert cap.findtext(f"{CAP}sender") == settings.CAP_SENDER
    assert cap.findtext(f"{CAP}identifier") == alerts["active"].identifier


@pytest.mark.parametrize("kind", ["feed", "cap"])
def test_pollers_get_304_until_something_changes_and_head_works(client, alerts, kind):
    active = alerts["active"]
    path = "/alerts/feed.atom" if kind == "feed" else f"/alerts/{active.pk}/cap.xml"
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    head = client.head(path)
    assert head.status_code == 200 and head.content == b"" and head["ETag"] == etag
    Alert.objects.filter(pk=active.pk).update(updated_at=timezone.now() + timedelta(seconds=5))
    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag


def test_each_language_has_its_own_event_and_feed(client, alerts, cap_xsd):
    document = client.get(f"/alerts/{alerts['active'].pk}/cap.xml").content
    _valid(cap_xsd, document)
    infos = {
        info.findtext(f"{CAP}language"): info
        for info in ET.fromstring(document).findall(f"{CAP}info")
    }
    assert infos["en-US"].findtext(f"{CAP}event") == "Boil water advisory"
    assert infos["es-US"].findtext(f"{CAP}event") == "Aviso de hervir el agua"
    spanish = ET.fromstring(client.get("/es/alerts/feed.atom").content)
    assert spanish.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert spanish.findtext(f"{ATOM}title") == "Alertas de City of Riverbend"
    titles = [e.findtext(f"{ATOM}title") for e in spanish.iter(f"{ATOM}entry")]
    assert "Aviso de hervir el agua en Eastgate" in titles


def test_the_ipaws_profile_when_the_installation_turns_it_on(
    client, alerts, settings, cap_xsd, ipaws_xsd
):
    active = alerts["active"]
    plain = client.get(f"/alerts/{active.pk}/cap.xml").content
    assert b"IPAWSv1.0" not in plain
    settings.CAP_IPAWS_PROFILE = True
    settings.CAP_SAME_GEOCODE = "006053"
    settings.CAP_BLOCKCHANNEL = ["NWEM"]
    Alert.objects.filter(pk=active.pk).update(same_event="CEM")
    document = client.get(f"/alerts/{active.pk}/cap.xml").content
    _valid(cap_xsd, document)
    _valid(ipaws_xsd, document)
    root = ET.fromstring(document)
    assert root.findtext(f"{CAP}code") == "IPAWSv1.0"
    for info in root.findall(f"{CAP}info"):
        code = info.find(f"{CAP}eventCode")
        assert (code.findtext(f"{CAP}valueName"), code.findtext(f"{CAP}value")) == ("SAME", "CEM")
        parameters = {
            p.findtext(f"{CAP}valueName"): p.findtext(f"{CAP}value")
            for p in info.findall(f"{CAP}parameter")
        }
        assert parameters["EAS-ORG"] == "CIV" and parameters["BLOCKCHANNEL"] == "NWEM"
        assert 0 < len(parameters["CMAMtext"]) <= 90
        geocode = info.find(f"{CAP}area/{CAP}geocode")
        assert geocode.findtext(f"{CAP}value") == "006053"
    # Without the profile, the plain document was still valid CAP 1.2, and is not IPAWS.
    _valid(cap_xsd, plain)
    assert list(ipaws_xsd.iter_errors(io.BytesIO(plain)))


def test_a_long_headline_is_cut_for_wireless_alerts(client, alerts, settings):
    settings.CAP_IPAWS_PROFILE = True
    long = _alert(
        alerts["active"].topic,
        title_en="Boil water advisory for the whole of Eastgate and the streets north of River Road, until further notice",
    )
    root = ET.fromstring(client.get(f"/alerts/{long.pk}/cap.xml").content)
    values = [
        p.findtext(f"{CAP}value")
        for p in root.iter(f"{CAP}parameter")
        if p.findtext(f"{CAP}valueName") == "CMAMtext"
    ]
    assert values and all(len(v) <= 90 and v.endswith("…") for v in values[:1])


def test_unknown_and_malformed_alert_ids_are_404(client, alerts):
    assert client.get("/alerts/999999/cap.xml").status_code == 404
    assert client.get("/alerts/abc/cap.xml").status_code == 404
    assert client.post("/alerts/feed.atom").status_code == 405
