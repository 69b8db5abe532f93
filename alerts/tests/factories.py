"""Small helpers that build valid alerts objects for tests.

Keep the signatures stable: other test modules import these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert, Subscription, Topic

_TOPIC_NAMES = {
    "weather": ("Weather", "Clima"),
    "water": ("Water", "Agua"),
    "roads": ("Roads and traffic", "Calles y tráfico"),
    "safety": ("Public safety", "Seguridad pública"),
}


def make_topic(slug: str = "weather", **kw) -> Topic:
    """A new active topic; names default to readable English and Spanish ones."""
    name_en, name_es = _TOPIC_NAMES.get(slug, (slug.replace("-", " ").capitalize(), ""))
    fields = {"name_en": name_en, "name_es": name_es or f"{name_en} (es)"}
    fields.update(kw)
    return Topic.objects.create(slug=slug, **fields)


def make_alert(topic: Topic | None = None, **kw) -> Alert:
    """A valid bilingual draft alert, in effect now and for a day.

    Without `topic`, the "weather" topic is used (created if it does not exist yet).
    `neighborhoods=[...]` sets the area (and makes the alert not citywide unless told).
    """
    if topic is None:
        topic = Topic.objects.filter(slug="weather").first() or make_topic("weather")
    neighborhoods = kw.pop("neighborhoods", None)
    now = timezone.now()
    fields = {
        "title_en": "Heat advisory",
        "title_es": "Aviso de calor",
        "body_en": "Temperatures will reach 105°F this afternoon. Cooling centers are open.",
        "body_es": "Las temperaturas llegarán a 40 °C esta tarde. Los centros de enfriamiento "
        "están abiertos.",
        "event": "Heat advisory",
        "event_es": "Aviso de calor",
        "effective": now,
        "expires": now + timedelta(days=1),
    }
    if neighborhoods:
        fields["citywide"] = False
    fields.update(kw)
    alert = Alert.objects.create(topic=topic, **fields)
    if neighborhoods:
        alert.neighborhoods.set(neighborhoods)
    return alert


def make_subscription(
    topics: Topic | Iterable[Topic],
    *,
    email: str = "",
    phone: str = "",
    language: str = "en",
    confirmed: bool = True,
    **kw,
) -> Subscription:
    """A subscription to `topics` (one topic or several), by email and/or text message.

    The channels follow the addresses given (`by_email=bool(email)`, `by_sms=bool(phone)`)
    unless `by_email`/`by_sms` are passed. `neighborhoods=[...]` limits the area.
    """
    if isinstance(topics, Topic):
        topics = [topics]
    neighborhoods = kw.pop("neighborhoods", None)
    fields = {
        "email": email,
        "phone": phone,
        "language": language,
        "by_email": bool(email),
        "by_sms": bool(phone),
        "citywide": not neighborhoods,
        "confirmed_at": timezone.now() if confirmed else None,
    }
    fields.update(kw)
    subscription = Subscription.objects.create(**fields)
    subscription.topics.set(topics)
    if neighborhoods:
        subscription.neighborhoods.set(neighborhoods)
    return subscription
