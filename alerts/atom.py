"""Published alerts as an Atom 1.0 feed (RFC 4287), each entry linking to its CAP message."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .cap import CAP_MIME_TYPE, sender_domain

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
SUMMARY_LENGTH = 300


# Tag URIs (RFC 4151) under the CAP sender's domain: ids that survive a change of web address.
TAG_DATE = "2026"


def feed_id() -> str:
    return f"tag:{sender_domain()},{TAG_DATE}:alerts"


def entry_id(alert) -> str:
    return f"tag:{sender_domain()},{TAG_DATE}:alert:{alert.identifier}"


def alerts_atom_feed(alerts, *, site_url: str, feed_url: str, updated, language="en") -> bytes:
    """An Atom feed of `alerts` in `language`, as UTF-8 XML with an XML declaration."""
    site_url = site_url.rstrip("/")
    city = settings.CITY["name"]
    prefix = "/es" if language == "es" else ""

    # Tags are left unqualified under an explicit default xmlns: ElementTree's own
    # `default_namespace` option refuses unqualified attribute names such as rel and href.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": language})
    _add(feed, "id", feed_id())
    with translation.override(language):
        _add(feed, "title", _("%(city)s alerts") % {"city": city})
    _add(feed, "updated", rfc3339(updated))
    author = ET.SubElement(feed, "author")
    _add(author, "name", city)
    _add(author, "email", settings.CITY["email"])
    _link(feed, rel="self", href=feed_url, type="application/atom+xml")
    _link(feed, rel="alternate", href=f"{site_url}{prefix}/alerts/", type="text/html")

    with translation.override("en"):
        for alert in alerts:
            page_url = site_url + prefix + alert.get_absolute_url()
            entry = ET.SubElement(feed, "entry")
            _add(entry, "id", entry_id(alert))
            _add(entry, "title", alert.title(language))
            _add(entry, "updated", rfc3339(alert.updated_at))
            if alert.published_at:
                _add(entry, "published", rfc3339(alert.published_at))
            _add(entry, "summary", alert.body(language)[:SUMMARY_LENGTH])
            _link(entry, rel="alternate", href=page_url, type="text/html")
            _link(entry, rel="alternate", href=site_url + cap_path(alert.pk), type=CAP_MIME_TYPE)
            ET.SubElement(entry, "category", term=alert.category)

    ET.indent(feed)
    return XML_DECLARATION + ET.tostring(feed, encoding="unicode").encode("utf-8")


def cap_path(pk: int) -> str:
    """The path of an alert's CAP message, whether or not the `alerts:cap` URL is wired yet."""
    try:
        return reverse("alerts:cap", args=[pk])
    except NoReverseMatch:
        return f"/alerts/{pk}/cap.xml"


def rfc3339(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(text)
    return element


def _link(parent: ET.Element, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, "link", **attributes)
