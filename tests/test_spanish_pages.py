"""No English on the Spanish site (issue 13, item 8).

Every resident page under /es/ is rendered through the test client with data that makes it show
all it can: a Spanish-speaking resident with drafts, applications in each state, reports,
alert subscriptions and messages; alerts in effect, past, cancelled and updated; each step of
the forms, with and without errors. The visible text of each page (and the attributes people
read or hear: title, alt, aria-label, placeholder, the stacked tables' data-label, the value of
buttons, the meta description) is searched for the English side of the Spanish catalog: an
English phrase the catalog translates, shown as it is, missed its translation on the way to the
page (a `gettext` run at import time, a template string without `{% translate %}`, a value
cached in the language of the first visitor...).

The English side of the test's own bilingual records (permit types, questions, categories,
topics, alerts) is searched for the same way: a Spanish page naming a permit type in English
shows English just as much.

Everything is built and rendered once, inside one transaction rolled back at the end; each page
is then its own test, so a failure names the page and lists every English phrase it shows.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import transaction
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone, translation

from alerts import services as alert_services
from alerts.constants import AlertStatus
from alerts.delivery import alert_fan_out
from alerts.models import Alert, Topic
from alerts.tests.factories import make_alert, make_topic
from alerts.tests.factories import make_subscription as make_alert_subscription
from alerts.tokens import confirm_email_token, unsubscribe_token
from cityhall.models import Neighborhood
from cityhall.roles import Role
from cityhall.urls import handler400, handler403, handler404, handler500  # noqa: F401
from cityhall.urls import urlpatterns as site_urlpatterns
from code_enforcement import services as ce_services
from code_enforcement.constants import Resolution
from code_enforcement.models import ServiceAttribute, ServiceCategory, ViolationType
from code_enforcement.tests import factories as ce
from kpis.metrics import METRICS
from kpis.models import PerformanceSettings
from kpis.rollups import rollup_days
from permits import services as permit_services
from permits.demo import _types as demo_permit_types
from permits.models import (
    Application,
    DocumentRequirement,
    InspectionType,
    PermitType,
    Question,
)
from permits.tests.factories import factory_staff, make_application
from tests.personas import make_resident, make_staff, signed_in_client

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"

# --- The English phrases to look for ------------------------------------------------------------

# Placeholders and markup never reach a page as written.
NOT_VERBATIM = re.compile(r"[%{<]")
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sd]|\{\{?[^}]*\}\}?")
TRAILING = " .:;,?!…"
# A single word is a phrase from this many letters on: shorter ones ("Fee", "Open", "Type")
# are too often part of something else to mean anything alone.
SINGLE_WORD_LETTERS = 6
# Single English words that are also Spanish usted imperatives: "Complete su perfil" (the
# catalog's own Spanish), "Prepare un kit de emergencia" (an alert's text).
ALSO_SPANISH = {"Complete", "Prepare"}


def _po_entries(po: Path) -> Iterator[dict[str, str]]:
    """The live entries of a .po file: {"msgid": ..., "msgstr": ...} (and msgctxt,
    msgid_plural, msgstr[N]). Obsolete entries (#~) are comments here and are skipped; fuzzy
    ones are kept: Django does not use their Spanish, so their English is what a page shows."""
    entry: dict[str, str] = {}
    keyword = ""
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            if entry.get("msgid"):
                yield entry
            entry, keyword = {}, ""
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[keyword] += ast.literal_eval(line)
        else:
            keyword, _space, quoted = line.partition(" ")
            entry[keyword] = ast.literal_eval(quoted)


def _phrase(english: str) -> str | None:
    """The phrase a page would show, or None when it is no evidence of English on its own."""
    if NOT_VERBATIM.search(english):
        return None
    phrase = " ".join(english.split()).rstrip(TRAILING)
    words = phrase.split()
    if len(words) >= 2:
        return phrase
    if len(words) == 1 and sum(c.isalpha() for c in phrase) >= SINGLE_WORD_LETTERS:
        return None if phrase in ALSO_SPANISH else phrase
    return None


@functools.cache
def _whole(phrase: str) -> re.Pattern:
    """The phrase as whole words, case-sensitive ("Search" is not in "Searching")."""
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")


def _english_of(pairs: list[tuple[str, list[str], str]]) -> dict[str, str]:
    """{phrase: where it comes from} for (English, its Spanish, origin) pairs.

    English left as it is in Spanish ("PDF", "Open311") is no evidence; neither is a phrase
    the Spanish text itself uses (a translation that quotes a name, an address or a term)."""
    spanish = "\n".join(text for _english, translations, _origin in pairs for text in translations)
    spanish = PLACEHOLDER.sub(" ", spanish)  # "%(address)s" is no Spanish use of "address"
    phrases: dict[str, str] = {}
    for english, translations, origin in pairs:
        if english in translations:
            continue
        phrase = _phrase(english)
        if phrase and phrase not in phrases and not _whole(phrase).search(spanish):
            phrases[phrase] = origin
    return phrases


def catalog_phrases() -> dict[str, str]:
    pairs = []
    for entry in _po_entries(CATALOG):
        translations = [text for key, text in entry.items() if key.startswith("msgstr")]
        for key in ("msgid", "msgid_plural"):
            if entry.get(key):
                pairs.append((entry[key], translations, f"catalog msgid {entry[key]!r}"))
    return _english_of(pairs)


# The bilingual records the world creates; an alert published in English only is English by the
# city's choice (its page says so) and is left out.
BILINGUAL_MODELS = [
    PermitType,
    InspectionType,
    DocumentRequirement,
    Question,
    ServiceCategory,
    ServiceAttribute,
    ViolationType,
    Topic,
    Alert,
]


def record_phrases() -> dict[str, str]:
    pairs = []
    for model in BILINGUAL_MODELS:
        for row in model.objects.all():
            if getattr(row, "english_only", False):
                continue
            for model_field in row._meta.concrete_fields:
                name = model_field.attname
                if name.endswith("_en") and hasattr(row, name[:-3] + "_es"):
                    english, spanish = getattr(row, name), getattr(row, name[:-3] + "_es")
                    pairs.append((english, [spanish], f"{model.__name__}.{name} of {row}"))
                value = getattr(row, name)
                # Choices of a question or a category's question: [{"en": ..., "es": ...}]
                for item in value if isinstance(value, list) else []:
                    if isinstance(item, dict) and item.get("en") and "es" in item:
                        pairs.append((item["en"], [item["es"]], f"{model.__name__}.{name}"))
    return _english_of(pairs)


# --- What a page shows ----------------------------------------------------------------------------

BLOCKS = {
    "address", "article", "blockquote", "br", "button", "caption", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "label", "legend", "li", "main", "nav", "ol", "option", "p", "section", "select",
    "summary", "table", "td", "textarea", "th", "title", "tr", "ul",
}  # fmt: skip
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder"}
BUTTON_INPUTS = {"submit", "button", "reset"}


class _VisibleText(HTMLParser):
    """The lines a person reads or hears: text by block, and the attributes that are read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._skipping: tuple[str, int] | None = None  # (tag, how deep) while skipping

    def _flush(self) -> None:
        text = " ".join("".join(self._line).split())
        if text:
            self.lines.append(text)
        self._line = []

    def handle_starttag(self, tag, attrs):
        if self._skipping:
            skipped, depth = self._skipping
            self._skipping = (skipped, depth + (tag == skipped))
            return
        attributes = dict(attrs)
        language = attributes.get("lang") or "es"
        # Scripts and styles are not read; text marked as another language ("English" in the
        # language switcher, lang="en") is English on purpose.
        if tag not in VOID and (tag in {"script", "style"} or not language.startswith("es")):
            self._skipping = (tag, 1)
            return
        if tag in BLOCKS:
            self._flush()
        read = [value for name, value in attrs if name in READ_ATTRIBUTES and value]
        read += [value for name, value in attrs if name.startswith("data-") and "label" in name]
        if tag == "input" and attributes.get("type") in BUTTON_INPUTS:
            read.append(attributes.get("value") or "")
        if tag == "meta" and attributes.get("name") == "description":
            read.append(attributes.get("content") or "")
        self.lines += [" ".join(value.split()) for value in read if value and value.strip()]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._skipping and self._skipping[0] == tag:  # <div lang="en"/>: nothing inside
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self._skipping:
            skipped, depth = self._skipping
            if tag == skipped:
                self._skipping = None if depth == 1 else (skipped, depth - 1)
            return
        if tag in BLOCKS:
            self._flush()

    def handle_data(self, data):
        if not self._skipping:
            self._line.append(data)

    def close(self):
        super().close()
        self._flush()


def _json_strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


# Addresses are not words on a page: "/es/alerts/6/" in a message's link says nothing of its
# language.
ADDRESSES = re.compile(r"\b(?:https?://|tag:)\S+")


def english_in(text: str, phrases: dict[str, str]) -> list[tuple[str, str, str]]:
    """(phrase, origin, the line it is in) for each phrase the text shows; a phrase seen only
    inside a longer one found ("Inspection" in "Inspection scheduled") is not listed again."""
    text = ADDRESSES.sub(" ", text)
    matches = [
        (match.start(), match.end(), phrase, origin)
        for phrase, origin in phrases.items()
        for match in _whole(phrase).finditer(text)
    ]
    found = {}
    for start, end, phrase, origin in matches:
        inside = any(s <= start and end <= e and e - s > end - start for s, e, *_ in matches)
        if not inside and phrase not in found:
            line = text[text.rfind("\n", 0, start) + 1 :].split("\n", 1)[0]
            found[phrase] = (phrase, origin, line)
    return sorted(found.values())


def visible_lines(response) -> list[str]:
    body = response.content.decode(response.charset or "utf-8")
    if "json" in response.get("Content-Type", ""):
        return [" ".join(s.split()) for s in _json_strings(json.loads(body)) if s.strip()]
    parser = _VisibleText()
    parser.feed(body)
    parser.close()
    return parser.lines


# --- The world ------------------------------------------------------------------------------------


class World:
    """A Spanish-speaking resident (María) with one of everything, the city around her, and the
    clients the pages are visited with."""

    def __init__(self) -> None:
        ce.ensure_city()
        hoods = {hood.slug: hood for hood in Neighborhood.objects.all()}
        today = timezone.localdate()
        technician = factory_staff(Role.PERMIT_TECHNICIAN)
        reviewer = factory_staff(Role.PLAN_REVIEWER)
        supervisor = make_staff(Role.CODE_SUPERVISOR)
        comms = make_staff(Role.COMMUNICATIONS_OFFICER)

        self.maria = make_resident(
            "maria@example.com",
            language="es",
            first_name="María",
            last_name="González",
            home_address="214 Calle Palma",
            phone="+14082104412",
            neighborhood=hoods["las-palmas"],
        )
        # A new resident: no name or address yet, a number not confirmed, nothing to show.
        self.luis = make_resident("luis@example.com", language="es", phone="+14085550199")
        self.luis.phone_confirmed_at = None
        self.luis.save(update_fields=["phone_confirmed_at"])

        # Permits: the demo's ten types, the one full set there is (every fee kind, question
        # kind, document and inspection, a renewable licence).
        types = demo_permit_types()
        bld = types["BLD"]
        renewable = PermitType.objects.filter(renewable=True).order_by("position").first()
        project = {
            "applicant_name": "María González",
            "address": "214 Calle Palma",
            "description": "Ampliar la cocina y agregar un baño.",
        }
        self.draft_new = permit_services.application_start(applicant=self.maria, permit_type=bld)
        self.draft_yes_no = permit_services.application_start(
            applicant=self.maria, permit_type=types["HOC"]
        )
        self.draft_date = permit_services.application_start(
            applicant=self.maria, permit_type=types["SPE"]
        )
        self.draft_done = make_application(self.maria, bld, **project)
        self.submitted = make_application(self.maria, bld, status="submitted", **project)
        self.to_withdraw = make_application(self.maria, bld, status="submitted", **project)
        self.info_requested = make_application(self.maria, bld, status="info_requested", **project)
        self.approved = make_application(self.maria, bld, status="approved", **project)
        self.issued = make_application(self.maria, bld, status="issued", **project)
        self.denied = make_application(self.maria, bld, status="denied", **project)
        self.withdrawn = make_application(self.maria, bld, status="withdrawn", **project)
        self.revoked = make_application(self.maria, bld, status="revoked", **project)
        self.finaled = make_application(self.maria, bld, status="finaled", **project)
        self.expired = make_application(self.maria, renewable, status="expired", **project)
        framing, electrical, *_rest = bld.inspection_types.order_by("position")
        scheduled = permit_services.inspection_request(
            application=self.issued,
            actor=self.maria,
            inspection_type=framing,
            preferred_dates="Martes o miércoles por la mañana",
        )
        permit_services.inspection_schedule(
            inspection=scheduled,
            actor=technician,
            when=today + timedelta(days=3),
            inspector=reviewer,
        )
        permit_services.inspection_request(
            application=self.issued,
            actor=self.maria,
            inspection_type=electrical,
            preferred_dates="Cualquier tarde",
        )

        # Reports: María's open one near 120 Oak Street (offered to the next reporter there),
        # her closed one (she may reopen it), one merged into hers, and a private one.
        self.vehicle = ce.make_category("abandoned-vehicle")
        ce.make_required_attribute(self.vehicle)
        pothole = ce.make_category("pothole")
        ce.make_category("graffiti")
        private = ce.make_category(
            "noise",
            name_en="Noisy neighbor",
            name_es="Ruido de vecinos",
            description_en="Report noise from a home nearby.",
            description_es="Reporte ruido de una casa cercana.",
            sensitive=True,
        )
        ce.make_violation_type()
        oak = (36.420, -121.330)
        for number, shift in ((120, 0), (12, 1), (1200, 2), (14, 3), (130, 4)):
            ce.make_address(f"{number} Oak Street", oak[0] + shift * 0.0003, oak[1])
        self.open_report = ce.make_request(
            self.vehicle,
            lat=oak[0],
            lon=oak[1],
            address="120 Oak Street",
            description="Un auto sin placas lleva dos semanas estacionado.",
            attributes={"kind": "car"},
            reporter=self.maria,
            language="es",
        )
        ce_services.request_acknowledge(
            request=self.open_report, actor=supervisor, note="Un inspector irá esta semana."
        )
        self.closed_report = ce.make_request(
            pothole,
            address="214 Calle Palma",
            description="Bache profundo frente a mi casa.",
            reporter=self.maria,
            language="es",
        )
        ce_services.request_close(
            request=self.closed_report,
            actor=supervisor,
            resolution=Resolution.RESOLVED,
            note="Reparado por la cuadrilla de calles.",
        )
        self.duplicate = ce.make_request(
            self.vehicle,
            lat=oak[0],
            lon=oak[1],
            address="120 Oak Street",
            description="Auto abandonado.",
            attributes={"kind": "car"},
            language="es",
        )
        ce_services.request_merge(
            request=self.duplicate, original=self.open_report, actor=supervisor
        )
        self.private_report = ce.make_request(
            private, description="Música muy alta todas las noches.", language="es"
        )

        # Alerts: in effect (one extreme, for the banner on every page), past, cancelled,
        # updated, and one the city published in English only.
        weather, water = make_topic("weather"), make_topic("water")
        make_topic("roads")
        make_topic("safety")
        alert_services.subscription_save_for_user(
            user=self.maria,
            topics=[weather, water],
            citywide=False,
            neighborhoods=[hoods["las-palmas"]],
            by_email=True,
            by_sms=True,
            language="es",
        )

        def publish(**fields) -> Alert:
            return alert_services.alert_publish(alert=make_alert(**fields), actor=comms)

        self.alert = publish(
            topic=weather,
            instruction_en="Drink water and stay in the shade.",
            instruction_es="Tome agua y quédese a la sombra.",
        )
        self.extreme = publish(
            topic=water,
            severity="Extreme",
            urgency="Immediate",
            title_en="Do not drink tap water in Oak Hill",
            title_es="No beba agua de la llave en Oak Hill",
            body_en="A water main broke on Oak Street. Tap water is not safe to drink.",
            body_es="Se rompió una tubería principal en Oak Street. El agua de la llave no es "
            "segura para beber.",
            instruction_en="Boil water for one minute before drinking it.",
            instruction_es="Hierva el agua un minuto antes de beberla.",
            event="Boil water advisory",
            event_es="Aviso de hervir el agua",
            neighborhoods=[hoods["oak-hill"], hoods["las-palmas"]],
        )
        self.past = make_alert(
            topic=weather,
            status=AlertStatus.EXPIRED,
            title_en="Wind advisory",
            title_es="Aviso de viento",
            effective=timezone.now() - timedelta(days=41),
            published_at=timezone.now() - timedelta(days=41),
            expires=timezone.now() - timedelta(days=40),
        )
        self.cancelled = publish(
            topic=water,
            title_en="Water shut-off on Main Street",
            title_es="Corte de agua en Main Street",
        )
        alert_services.alert_cancel(
            alert=self.cancelled,
            actor=comms,
            reason_en="The repair was moved to next week.",
            reason_es="La reparación se pasó a la próxima semana.",
        )
        update = alert_services.alert_prepare_update(alert=self.alert, actor=comms)
        update.title_en, update.title_es = "Heat advisory extended", "Aviso de calor extendido"
        update.save()
        self.update = alert_services.alert_publish(alert=update, actor=comms)
        self.english_only = publish(
            topic=weather,
            english_only=True,
            title_en="Air quality notice",
            title_es="",
            body_en="Smoke from a fire in the hills may reach the city tonight.",
            body_es="",
            event="Air quality alert",
            event_es="",
        )
        # What the worker does after each commit: the messages of every alert sent out.
        for alert in Alert.objects.filter(published_at__isnull=False).order_by("pk"):
            alert_fan_out(alert_id=alert.pk)
        self.pending = alert_services.subscription_start(
            email="vecina@example.com",
            language="es",
            topics=[weather],
            citywide=True,
            neighborhoods=[],
        )
        self.by_text = make_alert_subscription(
            [weather, water], phone="+14085550142", language="es"
        )

        # The public performance page: every metric, over the last two quarters.
        performance = PerformanceSettings.current()
        performance.public_metrics = [metric.key for metric in METRICS]
        performance.save()
        rollup_days(start=today - timedelta(days=181), end=today)

        self.visitor = Client()
        self.reporter = Client()  # goes through "Report a problem" step by step
        self.follower = Client()  # follows María's report by text message instead
        self.subscriber = Client()
        self.maria_client = signed_in_client(self.maria)
        self.luis_client = signed_in_client(self.luis)
        self.urls: dict[str, str] = {}  # addresses found on the way (redirects)


# --- The pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    visit: Callable[[World], object]
    status: int = 200


def _post(client: Client, url: str, data=None, **extra):
    return client.post(url, data or {}, follow=True, **extra)


def _last_url(response) -> str:
    chain = getattr(response, "redirect_chain", None)
    return chain[-1][0] if chain else response.request["PATH_INFO"]


def _draft(application: Application, section: str = "") -> str:
    return f"/es/permits/apply/{application.public_id}/{section + '/' if section else ''}"


def _permit(application: Application, rest: str = "") -> str:
    return f"/es/permits/{application.number}/{rest}"


def _report_until_contact(w: World, client: Client) -> None:
    """Steps 1 to 4 of a report of an abandoned car at 120 Oak Street."""
    client.post("/es/report/", {"category": w.vehicle.pk})
    client.post("/es/report/location/", {"address": "120 Oak Street"})
    client.post(
        "/es/report/details/",
        {"description": "Una camioneta vieja sin llantas.", "attr_kind": "truck"},
    )
    client.post("/es/report/photos/", {"continue": "1"})


def _photo_too_many(w: World):
    limits = {**settings.RATE_LIMITS, "photo": {"ip": "0/h"}}
    with override_settings(RATE_LIMITS=limits):
        return w.reporter.post("/es/report/photos/", {"photo": ce.jpeg_upload("otra.jpg")})


def _subscribe_too_many(w: World):
    limits = {**settings.RATE_LIMITS, "subscribe": {"ip": "0/h", "destination": "0/h"}}
    with override_settings(RATE_LIMITS=limits):
        return Client().post("/es/alerts/subscribe/", _subscribe_form("otra@example.com"))


def _subscribe_form(email: str = "", phone: str = "") -> dict:
    return {
        "how": "sms" if phone else "email",
        "email": email,
        "phone": phone,
        "language": "es",
        "topics": [Topic.objects.get(slug="weather").pk],
        "area": "city",
    }


def _subscribe_by_text(w: World):
    response = _post(w.subscriber, "/es/alerts/subscribe/", _subscribe_form(phone="(408) 555-0177"))
    w.urls["code"] = _last_url(response)
    return response


def _report_follow_by_text(w: World):
    _report_until_contact(w, w.follower)
    w.follower.post("/es/report/contact/", {"phone": "(408) 555-0123"})
    return _post(w.follower, "/es/report/review/", {"follow": w.open_report.public_id})


def _report_send(w: World):
    response = _post(w.reporter, "/es/report/review/", {"submit": "1"})
    w.urls["report"] = _last_url(response).removesuffix("submitted/")
    return response


def _message(w: World, *, alert: Alert | None = None, link: str = "") -> str:
    """The address of María's latest message about an alert or a record."""
    messages = w.maria.notifications.order_by("-pk")
    if alert is not None:
        messages = messages.filter(alert=alert)
    else:  # the link is stored with or without the language prefix
        messages = messages.filter(link__endswith=link.removeprefix("/es"))
    return f"/es/me/messages/{messages.first().pk}/"


def _renew(w: World):
    return _post(w.maria_client, _permit(w.expired, "renew/"))


def _error_page(address: str, *, signed_in: bool = False):
    def visit(w: World):
        client = w.maria_client if signed_in else Client(raise_request_exception=False)
        with override_settings(ROOT_URLCONF=__name__):
            return client.get(address)

    return visit


def _forbidden(request):
    raise PermissionDenied


def _bad_request(request):
    raise SuspiciousOperation("a tampered form")


def _broken(request):
    raise RuntimeError("a bug")


# The error pages' own addresses, tried under /es/ with the site's handlers (see _error_page).
urlpatterns = [
    path("es/forbidden/", _forbidden),
    path("es/bad-request/", _bad_request),
    path("es/broken/", _broken),
    *site_urlpatterns,
]


# In order: the steps of a form build on the ones before. The forms bind to
# `request.POST or None`, so a page "with errors" posts its fields empty (an empty POST would
# show the blank form again).
def _delete_on_hold(w):
    """Luis's records are under a legal hold for a moment: his account cannot be deleted."""
    from cityhall.records.models import LegalHold

    hold = LegalHold.objects.create(kind="person", person_email=w.luis.email, reason="CPRA")
    try:
        return w.luis_client.get("/es/me/delete/")
    finally:
        hold.delete()


PAGES = [
    # The shell and the public pages.
    Page("home", lambda w: w.visitor.get("/es/")),
    Page("home, signed in", lambda w: w.maria_client.get("/es/")),
    Page("accessibility statement", lambda w: w.visitor.get("/es/accessibility/")),
    Page("web app manifest", lambda w: w.visitor.get("/es/manifest.webmanifest")),
    Page("performance", lambda w: w.visitor.get("/es/performance/")),
    # Permits: the public pages.
    Page("permits", lambda w: w.visitor.get("/es/permits/")),
    Page("permit records search", lambda w: w.visitor.get("/es/permits/search/")),
    Page("permit records search, results", lambda w: w.visitor.get("/es/permits/search/?q=Palma")),
    Page(
        "permit records search, nothing found",
        lambda w: w.visitor.get("/es/permits/search/?q=zzzz"),
    ),
    # Permits: applying.
    Page("apply: choose a type", lambda w: w.maria_client.get("/es/permits/apply/")),
    Page("apply: one type", lambda w: w.maria_client.get("/es/permits/apply/?type=BLD")),
    Page("draft: task list, not started", lambda w: w.maria_client.get(_draft(w.draft_new))),
    Page("draft: applicant", lambda w: w.maria_client.get(_draft(w.draft_new, "applicant"))),
    Page(
        "draft: applicant, errors",
        lambda w: w.maria_client.post(_draft(w.draft_new, "applicant"), {"applicant_name": ""}),
    ),
    Page("draft: project", lambda w: w.maria_client.get(_draft(w.draft_new, "project"))),
    Page(
        "draft: project, errors",
        lambda w: w.maria_client.post(_draft(w.draft_new, "project"), {"description": ""}),
    ),
    Page("draft: questions", lambda w: w.maria_client.get(_draft(w.draft_new, "questions"))),
    Page(
        "draft: questions, errors",
        lambda w: w.maria_client.post(_draft(w.draft_new, "questions"), {"square_feet": ""}),
    ),
    Page(
        "draft: questions, yes or no",
        lambda w: w.maria_client.get(_draft(w.draft_yes_no, "questions")),
    ),
    Page(
        "draft: questions, a date", lambda w: w.maria_client.get(_draft(w.draft_date, "questions"))
    ),
    Page(
        "draft: documents, none yet", lambda w: w.maria_client.get(_draft(w.draft_new, "documents"))
    ),
    Page(
        "draft: documents, no file chosen",
        lambda w: w.maria_client.post(_draft(w.draft_new, "documents"), {"slot": "other"}),
    ),
    Page(
        "draft: documents, uploaded",
        lambda w: w.maria_client.get(_draft(w.draft_done, "documents")),
    ),
    Page(
        "draft: check answers, incomplete",
        lambda w: w.maria_client.get(_draft(w.draft_new, "review")),
    ),
    Page(
        "draft: check answers, complete",
        lambda w: w.maria_client.get(_draft(w.draft_done, "review")),
    ),
    Page(
        "draft: check answers, not declared",
        lambda w: w.maria_client.post(_draft(w.draft_done, "review"), {"confirm": ""}),
    ),
    Page("draft: task list, complete", lambda w: w.maria_client.get(_draft(w.draft_done))),
    Page("draft: delete?", lambda w: w.maria_client.get(_draft(w.draft_new, "withdraw"))),
    # Permits: after submitting.
    Page(
        "application: submitted", lambda w: w.maria_client.get(_permit(w.submitted, "submitted/"))
    ),
    Page("application: in the queue", lambda w: w.maria_client.get(_permit(w.submitted))),
    Page("application: withdraw?", lambda w: w.maria_client.get(_draft(w.to_withdraw, "withdraw"))),
    Page(
        "application: information requested",
        lambda w: w.maria_client.get(_permit(w.info_requested)),
    ),
    Page(
        "application: information requested, empty answer",
        lambda w: w.maria_client.post(_permit(w.info_requested), {"action": "answer"}),
    ),
    Page("application: approved, fee due", lambda w: w.maria_client.get(_permit(w.approved))),
    Page("application: issued, inspections", lambda w: w.maria_client.get(_permit(w.issued))),
    Page(
        "application: issued, inspection request errors",
        lambda w: w.maria_client.post(_permit(w.issued), {"action": "inspection"}),
    ),
    Page("application: denied", lambda w: w.maria_client.get(_permit(w.denied))),
    Page("application: withdrawn", lambda w: w.maria_client.get(_permit(w.withdrawn))),
    Page("application: revoked", lambda w: w.maria_client.get(_permit(w.revoked))),
    Page("application: finaled", lambda w: w.maria_client.get(_permit(w.finaled))),
    Page("application: expired license", lambda w: w.maria_client.get(_permit(w.expired))),
    Page("application: renewing the expired license", _renew),
    Page(
        "my city hall, after withdrawing an application",
        lambda w: _post(w.maria_client, _draft(w.to_withdraw, "withdraw"), {"confirmed": "yes"}),
    ),
    Page(
        "my city hall, after deleting a draft",
        lambda w: _post(w.maria_client, _draft(w.draft_date, "withdraw"), {"confirmed": "yes"}),
    ),
    # Report a problem, step by step (anonymous), then its page.
    Page("report 1: the problem", lambda w: w.reporter.get("/es/report/")),
    Page("report 1: nothing chosen", lambda w: w.reporter.post("/es/report/", {"category": ""})),
    Page(
        "report 2: the place",
        lambda w: _post(w.reporter, "/es/report/", {"category": w.vehicle.pk}),
    ),
    Page(
        "report 2: several addresses match",
        lambda w: w.reporter.post("/es/report/location/", {"address": "Oak Street"}),
    ),
    Page(
        "report 2: no such number",
        lambda w: w.reporter.post("/es/report/location/", {"address": "999 Oak Street"}),
    ),
    Page(
        "report 2: address not found",
        lambda w: w.reporter.post("/es/report/location/", {"address": "5 Calle Inventada"}),
    ),
    Page(
        "report 2: nothing entered",
        lambda w: w.reporter.post("/es/report/location/", {"address": ""}),
    ),
    Page(
        "report 2: address suggestions",
        lambda w: w.reporter.get("/es/report/addresses/?address=Oak"),
    ),
    Page(
        "report 2: a map point in words",
        lambda w: w.reporter.get("/es/report/nearest.json?lat=36.4201&lon=-121.3301"),
    ),
    Page(
        "report 3: details",
        lambda w: _post(w.reporter, "/es/report/location/", {"address": "120 Oak Street"}),
    ),
    Page(
        "report 3: nothing entered",
        lambda w: w.reporter.post("/es/report/details/", {"description": ""}),
    ),
    Page(
        "report 4: photos",
        lambda w: _post(
            w.reporter,
            "/es/report/details/",
            {"description": "Una camioneta vieja sin llantas.", "attr_kind": "truck"},
        ),
    ),
    Page(
        "report 4: a photo added",
        lambda w: _post(w.reporter, "/es/report/photos/", {"photo": ce.jpeg_upload("auto.jpg")}),
    ),
    Page("report 4: too many photos too fast", _photo_too_many, status=429),
    Page("report 5: contact", lambda w: _post(w.reporter, "/es/report/photos/", {"continue": "1"})),
    Page(
        "report 5: contact errors",
        lambda w: w.reporter.post("/es/report/contact/", {"email": "no-es-un-correo"}),
    ),
    Page(
        "report 6: check and send",
        lambda w: _post(w.reporter, "/es/report/contact/", {"email": "vecino@example.com"}),
    ),
    Page("report received", _report_send),
    Page("report page, to its reporter", lambda w: w.reporter.get(w.urls["report"])),
    Page(
        "report page, public", lambda w: w.visitor.get(f"/es/requests/{w.open_report.public_id}/")
    ),
    Page(
        "report page, public, merged duplicate",
        lambda w: w.visitor.get(f"/es/requests/{w.duplicate.public_id}/"),
    ),
    Page(
        "report page, public, private kind",
        lambda w: w.visitor.get(f"/es/requests/{w.private_report.public_id}/"),
    ),
    Page(
        "report page, my open report",
        lambda w: w.maria_client.get(f"/es/requests/{w.open_report.public_id}/"),
    ),
    Page(
        "report page, adding information",
        lambda w: _post(
            w.maria_client,
            f"/es/requests/{w.open_report.public_id}/",
            {"action": "info", "info-text": "Sigue ahí hoy."},
        ),
    ),
    Page(
        "report page, my closed report",
        lambda w: w.maria_client.get(f"/es/requests/{w.closed_report.public_id}/"),
    ),
    Page(
        "report page, reopen errors",
        lambda w: w.maria_client.post(
            f"/es/requests/{w.closed_report.public_id}/", {"action": "reopen"}
        ),
    ),
    Page("report: follow by text message, the code", _report_follow_by_text),
    Page("requests map", lambda w: w.visitor.get("/es/requests/map/")),
    Page(
        "requests map, one kind",
        lambda w: w.visitor.get("/es/requests/map/?category=abandoned-vehicle"),
    ),
    Page("requests map data", lambda w: w.visitor.get("/es/requests/map.json")),
    # Alerts.
    Page("alerts", lambda w: w.visitor.get("/es/alerts/")),
    Page("alerts, one topic", lambda w: w.visitor.get("/es/alerts/?topic=water")),
    Page("alerts feed", lambda w: w.visitor.get("/es/alerts/feed.atom")),
    Page("alert: in effect, updated since", lambda w: w.visitor.get(f"/es/alerts/{w.alert.pk}/")),
    Page("alert: the update", lambda w: w.visitor.get(f"/es/alerts/{w.update.pk}/")),
    Page("alert: extreme", lambda w: w.visitor.get(f"/es/alerts/{w.extreme.pk}/")),
    Page("alert: past", lambda w: w.visitor.get(f"/es/alerts/{w.past.pk}/")),
    Page("alert: cancelled", lambda w: w.visitor.get(f"/es/alerts/{w.cancelled.pk}/")),
    Page(
        "alert: published in English only",
        lambda w: w.visitor.get(f"/es/alerts/{w.english_only.pk}/"),
    ),
    Page("subscribe", lambda w: w.subscriber.get("/es/alerts/subscribe/")),
    Page(
        "subscribe, errors",
        lambda w: w.subscriber.post(
            "/es/alerts/subscribe/", {"how": "email", "area": "neighborhoods"}
        ),
    ),
    Page(
        "subscribe: check your email",
        lambda w: _post(
            w.subscriber, "/es/alerts/subscribe/", _subscribe_form("nuevo@example.com")
        ),
    ),
    Page("subscribe: the texted code", _subscribe_by_text),
    Page(
        "subscribe: a wrong code", lambda w: w.subscriber.post(w.urls["code"], {"code": "000000"})
    ),
    Page(
        "subscribe: a new code sent",
        lambda w: _post(w.subscriber, w.urls["code"], {"resend": "1"}),
    ),
    Page("subscribe: too many sign-ups", _subscribe_too_many, status=429),
    Page(
        "subscribe: confirm the email",
        lambda w: w.visitor.get(
            f"/es/alerts/subscribe/confirm/{confirm_email_token(w.pending.pk)}/"
        ),
    ),
    Page(
        "subscribe: confirmed",
        lambda w: w.visitor.post(
            f"/es/alerts/subscribe/confirm/{confirm_email_token(w.pending.pk)}/"
        ),
    ),
    Page(
        "subscribe: a broken link",
        lambda w: w.visitor.get("/es/alerts/subscribe/confirm/roto/"),
        status=400,
    ),
    Page(
        "unsubscribe: emails",
        lambda w: w.visitor.get(
            f"/es/alerts/unsubscribe/{unsubscribe_token(channel='email', subscription_id=w.pending.pk)}/"
        ),
    ),
    Page(
        "unsubscribe: text messages",
        lambda w: w.visitor.get(
            f"/es/alerts/unsubscribe/{unsubscribe_token(channel='sms', subscription_id=w.by_text.pk)}/"
        ),
    ),
    Page(
        "unsubscribe: messages about my records",
        lambda w: w.visitor.get(
            f"/es/alerts/unsubscribe/{unsubscribe_token(channel='email', user_id=w.maria.pk)}/"
        ),
    ),
    Page(
        "unsubscribed",
        lambda w: w.visitor.post(
            f"/es/alerts/unsubscribe/{unsubscribe_token(channel='sms', subscription_id=w.by_text.pk)}/"
        ),
    ),
    # My City Hall.
    Page("my city hall", lambda w: w.maria_client.get("/es/me/")),
    Page("my city hall, new resident", lambda w: w.luis_client.get("/es/me/")),
    Page("profile", lambda w: w.maria_client.get("/es/me/profile/")),
    Page(
        "profile, errors",
        lambda w: w.maria_client.post(
            "/es/me/profile/",
            {"phone": "555-12", "preferred_language": "es", "notify_by_sms": "on"},
        ),
    ),
    Page("download my data", lambda w: w.maria_client.get("/es/me/data/")),
    Page(
        "download my data, wrong password",
        lambda w: w.maria_client.post("/es/me/data/", {"password": "not hers"}),
        status=400,
    ),
    Page("delete my account", lambda w: w.maria_client.get("/es/me/delete/")),
    Page(
        "delete my account, errors",
        lambda w: w.maria_client.post("/es/me/delete/", {"password": "not hers"}),
        status=400,
    ),
    Page("delete my account, under a legal hold", _delete_on_hold, status=409),
    Page("confirm phone", lambda w: w.luis_client.get("/es/me/phone/")),
    Page(
        "confirm phone, wrong code",
        lambda w: w.luis_client.post("/es/me/phone/", {"code": "000000"}),
    ),
    Page("my alerts", lambda w: w.maria_client.get("/es/me/alerts/")),
    Page("my alerts, new resident", lambda w: w.luis_client.get("/es/me/alerts/")),
    Page(
        "my alerts, errors",
        lambda w: w.maria_client.post("/es/me/alerts/", {"area": "neighborhoods", "by_sms": "on"}),
    ),
    Page("messages", lambda w: w.maria_client.get("/es/me/messages/")),
    Page("messages, none", lambda w: w.luis_client.get("/es/me/messages/")),
    Page("message: an alert", lambda w: w.maria_client.get(_message(w, alert=w.extreme))),
    Page(
        "message: an alert cancelled",
        lambda w: w.maria_client.get(_message(w, alert=w.cancelled.followups.get())),
    ),
    Page(
        "message: an inspection scheduled",
        lambda w: w.maria_client.get(_message(w, link=w.issued.get_absolute_url())),
    ),
    Page(
        "message: information requested",
        lambda w: w.maria_client.get(_message(w, link=w.info_requested.get_absolute_url())),
    ),
    Page(
        "message: a report closed",
        lambda w: w.maria_client.get(_message(w, link=w.closed_report.get_absolute_url())),
    ),
    # Accounts.
    Page("sign in", lambda w: w.visitor.get("/es/accounts/login/")),
    Page(
        "sign in, wrong password",
        lambda w: Client().post(
            "/es/accounts/login/", {"login": "maria@example.com", "password": "no-es-esta"}
        ),
    ),
    Page("sign up", lambda w: w.visitor.get("/es/accounts/signup/")),
    Page(
        "sign up, errors",
        lambda w: Client().post(
            "/es/accounts/signup/", {"email": "maria@example.com", "password1": "corta"}
        ),
    ),
    Page(
        "sign up: check your email",
        lambda w: _post(
            Client(),
            "/es/accounts/signup/",
            {
                "email": "nueva@example.com",
                "password1": "una-contraseña-muy-larga-7",
                "password2": "una-contraseña-muy-larga-7",
            },
        ),
    ),
    Page("new confirmation link", lambda w: w.visitor.get("/es/accounts/confirmation/resend/")),
    Page(
        "new confirmation link, sent",
        lambda w: _post(
            Client(), "/es/accounts/confirmation/resend/", {"email": "nueva@example.com"}
        ),
    ),
    Page(
        "confirm email, a broken link", lambda w: w.visitor.get("/es/accounts/confirm-email/roto/")
    ),
    Page("password reset", lambda w: w.visitor.get("/es/accounts/password/reset/")),
    Page(
        "password reset, sent",
        lambda w: _post(Client(), "/es/accounts/password/reset/", {"email": "maria@example.com"}),
    ),
    Page(
        "password reset, a broken link",
        lambda w: w.visitor.get("/es/accounts/password/reset/key/1-roto/", follow=True),
    ),
    Page("sign out?", lambda w: w.maria_client.get("/es/accounts/logout/")),
    Page("email addresses", lambda w: w.maria_client.get("/es/accounts/email/")),
    Page("change password", lambda w: w.maria_client.get("/es/accounts/password/change/")),
    # Error pages.
    Page("page not found", lambda w: w.visitor.get("/es/no-existe/"), status=404),
    Page(
        "page not found, signed in",
        lambda w: w.maria_client.get("/es/permits/NOPE-2026-000001/"),
        status=404,
    ),
    Page("bad request", _error_page("/es/bad-request/"), status=400),
    Page("forbidden", _error_page("/es/forbidden/"), status=403),
    Page("forbidden, signed in", _error_page("/es/forbidden/", signed_in=True), status=403),
    Page("server error", _error_page("/es/broken/"), status=500),
]


@dataclass
class Visit:
    status: int | None = None
    url: str = ""
    lines: list[str] = field(default_factory=list)
    error: str = ""


def _visit(page: Page, world: World) -> Visit:
    try:
        # A savepoint per page: a page that breaks leaves the others their data.
        with transaction.atomic():
            response = page.visit(world)
            return Visit(response.status_code, _last_url(response), visible_lines(response))
    except Exception as error:  # reported by the page's own test
        return Visit(error=f"{type(error).__name__}: {error}")


@pytest.fixture(scope="module")
def spanish_site(django_db_setup, django_db_blocker, tmp_path_factory):
    """Every page of PAGES as seen in Spanish, and the English phrases to look for."""
    media = tmp_path_factory.mktemp("media")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        cache.clear()
        with translation.override("en"):  # staff work in the console in English
            world = World()
        phrases = {**catalog_phrases(), **record_phrases()}
        cache.clear()  # the banner and the rate limits start from the world as built
        visits = {page.name: _visit(page, world) for page in PAGES}
        transaction.set_rollback(True)
    cache.clear()
    return visits, phrases


def test_the_catalog_gives_phrases_to_look_for():
    phrases = catalog_phrases()
    assert len(phrases) > 400, len(phrases)
    assert "Report a problem" in phrases and "Virtual City Hall" in phrases
    assert "Complete" not in phrases  # also Spanish
    assert not [p for p in phrases if NOT_VERBATIM.search(p)]


def test_visible_text_includes_what_is_read_and_skips_other_languages():
    html = (
        '<html lang="es"><head><title>Inicio | City</title><script>var x = "Sign in";</script>'
        '<meta name="description" content="Permisos"></head><body><p>Hola <b>María</b></p>'
        '<img alt="Foto 1"><td data-label="Estado">Abierto</td>'
        '<a lang="en" href="/">English <span>only</span></a><input type="submit" value="Enviar">'
        '<input type="text" value="mi texto"></body></html>'
    )
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    assert parser.lines == [
        "Inicio | City",
        "Permisos",
        "Hola María",
        "Foto 1",
        "Estado",
        "Abierto",
        "Enviar",
    ]


# django_db: the module's fixture builds in the test database, which pytest-django creates only
# for a run that has a test asking for it.
@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_spanish_page_shows_no_english(spanish_site, page):
    visits, phrases = spanish_site
    visit = visits[page.name]
    assert not visit.error, f"{page.name}: the page could not be rendered: {visit.error}"
    assert visit.status == page.status, f"{page.name}: {visit.url} answered {visit.status}"
    found = english_in("\n".join(visit.lines), phrases)
    assert not found, f"{page.name} ({visit.url}) shows English:\n" + "\n".join(
        f"  {phrase!r} ({origin}) in: {line[:160]!r}" for phrase, origin, line in found
    )
