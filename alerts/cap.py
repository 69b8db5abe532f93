"""An alert as a CAP 1.2 message (OASIS Common Alerting Protocol), built with the stdlib.

One <info> block in English and, when the alert has a Spanish version, a second in Spanish.
The area is the alert's neighborhoods (one polygon per outer ring) or, for a citywide alert,
the bounding box of every neighborhood. CAP polygons are "lat,lon" pairs; GeoJSON stores
[lon, lat], so the order is swapped here.
"""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone, translation

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MIME_TYPE = "application/cap+xml"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Characters CAP 1.2 forbids in <sender> (and in the parts of a <references> triple).
_FORBIDDEN_IN_SENDER = set(" ,<&\t\r\n")


IPAWS_CODE = "IPAWSv1.0"
CMAM_TEXT_LENGTH = 90  # what a Wireless Emergency Alert shows


def alert_to_cap(alert, *, site_url: str, ipaws: bool | None = None) -> bytes:
    """The alert as a UTF-8 CAP 1.2 XML document, XML declaration included.

    With `ipaws` (default: the CAP_IPAWS_PROFILE setting) it also follows the CAP 1.2 USA IPAWS
    profile: the profile code, a SAME event code, SAME geocodes and the EAS/WEA parameters.
    """
    site_url = site_url.rstrip("/")
    sender = cap_sender()
    ipaws = settings.CAP_IPAWS_PROFILE if ipaws is None else ipaws

    root = ET.Element(_q("alert"))
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", sender)
    _add(root, "sent", cap_datetime(sent_at(alert)))
    _add(root, "status", "Actual")
    _add(root, "msgType", alert.msg_type)
    _add(root, "scope", "Public")
    if ipaws:
        _add(root, "code", IPAWS_CODE)
    if alert.references_id:
        original = alert.references
        _add(
            root, "references", f"{sender},{original.identifier},{cap_datetime(sent_at(original))}"
        )

    area_desc, polygons = _area(alert)
    page_path = _english_path(alert.get_absolute_url)
    languages = [("en-US", "en", page_path)]
    if alert.has_spanish:
        languages.append(("es-US", "es", "/es" + page_path))
    for language_tag, language, path in languages:
        _add_info(
            root,
            alert,
            language_tag=language_tag,
            language=language,
            web=site_url + path,
            area_desc=area_desc,
            polygons=polygons,
            ipaws=ipaws,
        )

    ET.indent(root)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode", default_namespace=CAP_NS).encode(
        "utf-8"
    )


def cap_sender() -> str:
    """The installation's CAP sender (CAP_SENDER), without the characters CAP forbids. It does
    not follow SITE_URL: a new web address must not change who sent the city's alerts."""
    return "".join(ch for ch in settings.CAP_SENDER if ch not in _FORBIDDEN_IN_SENDER)


def sender_domain() -> str:
    return cap_sender().rsplit("@", 1)[-1] or "localhost"


def cap_datetime(value: datetime.datetime) -> str:
    """CAP's date-time form: city local time, whole seconds, explicit offset (never "Z")."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def sent_at(alert) -> datetime.datetime:
    return alert.published_at or alert.effective


def _add_info(root, alert, *, language_tag, language, web, area_desc, polygons, ipaws) -> None:
    # The order of the children is fixed by the CAP schema.
    info = ET.SubElement(root, _q("info"))
    _add(info, "language", language_tag)
    _add(info, "category", alert.category)
    _add(info, "event", alert.event_name(language))
    _add(info, "responseType", alert.response_type)
    _add(info, "urgency", alert.urgency)
    _add(info, "severity", alert.severity)
    _add(info, "certainty", alert.certainty)
    if ipaws:
        _value_pair(info, "eventCode", "SAME", alert.same_event or "ADR")
    _add(info, "effective", cap_datetime(alert.effective))
    if alert.onset:
        _add(info, "onset", cap_datetime(alert.onset))
    _add(info, "expires", cap_datetime(alert.expires))
    _add(info, "senderName", settings.CITY["name"])
    _add(info, "headline", alert.title(language))
    _add(info, "description", alert.body(language))
    instruction = alert.instruction(language).strip()
    if instruction:
        _add(info, "instruction", instruction)
    _add(info, "web", web)
    _add(info, "contact", settings.CITY["phone"])
    if ipaws:
        _value_pair(info, "parameter", "EAS-ORG", settings.CAP_EAS_ORG)
        for channel in settings.CAP_BLOCKCHANNEL:
            _value_pair(info, "parameter", "BLOCKCHANNEL", channel)
        _value_pair(info, "parameter", "CMAMtext", _cmam_text(alert.title(language)))
    area = ET.SubElement(info, _q("area"))
    _add(area, "areaDesc", area_desc)
    for polygon in polygons:
        _add(area, "polygon", polygon)
    if ipaws:
        _value_pair(area, "geocode", "SAME", settings.CAP_SAME_GEOCODE)


def _value_pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    element = ET.SubElement(parent, _q(tag))
    _add(element, "valueName", name)
    _add(element, "value", value)


def _cmam_text(headline: str) -> str:
    headline = " ".join(headline.split())
    if len(headline) <= CMAM_TEXT_LENGTH:
        return headline
    return headline[: CMAM_TEXT_LENGTH - 1].rstrip() + "…"


def _area(alert) -> tuple[str, list[str]]:
    """(areaDesc, [CAP polygon, ...]) for the alert."""
    city = settings.CITY["name"]
    if alert.citywide:
        box = _city_bounding_box()
        return city, [box] if box else []
    neighborhoods = list(alert.neighborhoods.all())
    if not neighborhoods:
        # Not citywide yet no neighborhood: name the city rather than send an empty areaDesc.
        return city, []
    polygons = [ring for n in neighborhoods for ring in _outer_rings(n.boundary)]
    return ", ".join(n.name for n in neighborhoods), polygons


def _city_bounding_box() -> str | None:
    from cityhall.models import Neighborhood

    box = Neighborhood.objects.aggregate(
        south=Min("min_lat"), north=Max("max_lat"), west=Min("min_lon"), east=Max("max_lon")
    )
    if any(value is None for value in box.values()):
        return None
    south, north, west, east = box["south"], box["north"], box["west"], box["east"]
    return _cap_polygon([(west, south), (east, south), (east, north), (west, north), (west, south)])


def _outer_rings(boundary) -> list[str]:
    """One CAP polygon per outer ring of a GeoJSON Polygon or MultiPolygon; holes are left out."""
    if not isinstance(boundary, dict):
        return []
    coordinates = boundary.get("coordinates") or []
    if boundary.get("type") == "Polygon":
        parts = [coordinates]
    elif boundary.get("type") == "MultiPolygon":
        parts = coordinates
    else:
        return []
    polygons = []
    for part in parts:
        if not part:
            continue
        ring = [(float(position[0]), float(position[1])) for position in part[0]]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        if len(ring) >= 4:
            polygons.append(_cap_polygon(ring))
    return polygons


def _cap_polygon(ring: list[tuple[float, float]]) -> str:
    """GeoJSON (lon, lat) positions as CAP's space-separated "lat,lon" pairs."""
    return " ".join(f"{_number(lat)},{_number(lon)}" for lon, lat in ring)


def _number(value: float) -> str:
    # Six decimals is about 10 cm; never scientific notation.
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _english_path(get_url) -> str:
    # The English URL has no language prefix (i18n_patterns, prefix_default_language=False).
    with translation.override("en"):
        return get_url()


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag))
    element.text = str(text)
    return element
