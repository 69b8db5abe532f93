"""Alerts demo data: topics, a few hundred subscribers, two years of past alerts, one active."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from cityhall.models import Neighborhood

from .constants import AlertStatus, Category, ResponseType, Severity, Urgency
from .models import Alert, Subscription, Topic

TOPICS = [
    (
        "emergency",
        "Emergency",
        "Emergencia",
        "Evacuations, shelter-in-place and other urgent safety warnings.",
        "Evacuaciones, refugio en el lugar y otros avisos urgentes de seguridad.",
    ),
    (
        "public-safety",
        "Public safety",
        "Seguridad pública",
        "Police and fire activity that affects the public.",
        "Actividad de policía y bomberos que afecta al público.",
    ),
    (
        "weather",
        "Weather",
        "Clima",
        "Heat, storms, flooding and air quality.",
        "Calor, tormentas, inundaciones y calidad del aire.",
    ),
    (
        "traffic",
        "Traffic & road closures",
        "Tráfico y cierres de calles",
        "Road work, closures and detours.",
        "Obras, cierres de calles y desvíos.",
    ),
    (
        "utilities",
        "Water & utilities",
        "Agua y servicios públicos",
        "Water outages, boil-water notices, power work.",
        "Cortes de agua, avisos de hervir el agua, trabajos eléctricos.",
    ),
    (
        "events",
        "Community events",
        "Eventos comunitarios",
        "Festivals, clean-ups and city events.",
        "Festivales, limpiezas y eventos de la ciudad.",
    ),
    (
        "council",
        "City council",
        "Concejo municipal",
        "Meeting agendas and decisions.",
        "Agendas y decisiones de las reuniones.",
    ),
]

EVENTS_ES = {
    "Boil water advisory": "Aviso de hervir el agua",
    "Excessive heat warning": "Advertencia de calor extremo",
    "Council meeting": "Reunión del concejo",
    "Road closure": "Cierre de calle",
    "Grass fire": "Incendio de pastizal",
    "Community event": "Evento comunitario",
    "Road work advisory": "Aviso de obras en la vía",
}

PAST_ALERTS = [
    (
        "utilities",
        Category.INFRA,
        "Boil water advisory",
        Severity.SEVERE,
        "Boil water advisory for Eastgate",
        "Aviso de hervir el agua en Eastgate",
        "A water main break lowered pressure in Eastgate. Bacteria may have entered the pipes.",
        "Una ruptura de tubería bajó la presión en Eastgate. Pudieron entrar bacterias en la tubería.",
        "Boil tap water for one minute before drinking or cooking.",
        "Hierva el agua de la llave por un minuto antes de beberla o cocinar con ella.",
        ["eastgate"],
    ),
    (
        "weather",
        Category.MET,
        "Excessive heat warning",
        Severity.SEVERE,
        "Excessive heat this weekend",
        "Calor extremo este fin de semana",
        "Temperatures up to 108°F are expected Saturday and Sunday.",
        "Se esperan temperaturas de hasta 108°F el sábado y el domingo.",
        "Drink water, stay indoors in the afternoon, and check on older neighbors. Cooling center at the library.",
        "Tome agua, quédese adentro por la tarde y visite a sus vecinos mayores. Centro de enfriamiento en la biblioteca.",
        [],
    ),
    (
        "traffic",
        Category.TRANSPORT,
        "Road closure",
        Severity.MINOR,
        "Main Street closed for repaving",
        "Calle Main cerrada por repavimentación",
        "Main Street between 1st and 5th Avenue is closed from 7 a.m. to 6 p.m. for repaving.",
        "La calle Main entre la 1.ª y la 5.ª Avenida está cerrada de 7 a. m. a 6 p. m. por repavimentación.",
        "Use River Road as a detour.",
        "Use River Road como desvío.",
        ["downtown"],
    ),
    (
        "events",
        Category.OTHER,
        "Community event",
        Severity.MINOR,
        "Riverside clean-up day on Saturday",
        "Día de limpieza de Riverside el sábado",
        "Join neighbors to clean the river trail. Gloves and bags provided.",
        "Únase a sus vecinos para limpiar el sendero del río. Hay guantes y bolsas.",
        "",
        "",
        ["riverside"],
    ),
    (
        "public-safety",
        Category.FIRE,
        "Grass fire",
        Severity.SEVERE,
        "Grass fire near Oak Hill",
        "Incendio de pasto cerca de Oak Hill",
        "Firefighters are working on a grass fire east of Oak Hill Road. Smoke is heavy.",
        "Los bomberos trabajan en un incendio de pasto al este de Oak Hill Road. Hay mucho humo.",
        "Keep windows closed and avoid Oak Hill Road.",
        "Mantenga las ventanas cerradas y evite Oak Hill Road.",
        ["oak-hill"],
    ),
    (
        "council",
        Category.OTHER,
        "Council meeting",
        Severity.MINOR,
        "City council meets Tuesday on the budget",
        "El concejo se reúne el martes sobre el presupuesto",
        "The council meets Tuesday at 6 p.m. at City Hall. Spanish interpretation is available.",
        "El concejo se reúne el martes a las 6 p. m. en el Ayuntamiento. Hay interpretación al español.",
        "",
        "",
        [],
    ),
]


@transaction.atomic
def demo_load() -> dict[str, int]:
    created = {"alert topics": 0, "alert subscribers": 0, "alerts": 0}
    topics = {}
    for position, (slug, name_en, name_es, desc_en, desc_es) in enumerate(TOPICS):
        topics[slug], new = Topic.objects.get_or_create(
            slug=slug,
            defaults={
                "name_en": name_en,
                "name_es": name_es,
                "description_en": desc_en,
                "description_es": desc_es,
                "position": position * 10,
            },
        )
        created["alert topics"] += new
    hoods = {hood.slug: hood for hood in Neighborhood.objects.all()}
    rng = random.Random(2026)

    if not Subscription.objects.filter(email__endswith="@subscribers.example").exists():
        for n in range(300):
            spanish = rng.random() < 0.6
            by_sms = rng.random() < 0.35
            subscription = Subscription.objects.create(
                email=f"vecino{n}@subscribers.example" if not by_sms else "",
                phone=f"+1408555{n:04d}" if by_sms else "",
                language="es" if spanish else "en",
                by_email=not by_sms,
                by_sms=by_sms,
                citywide=rng.random() < 0.5,
                confirmed_at=timezone.now() - timedelta(days=rng.randint(1, 700)),
            )
            subscription.topics.set(
                [*rng.sample(list(topics.values()), k=rng.randint(1, 4)), topics["emergency"]]
            )
            if not subscription.citywide:
                subscription.neighborhoods.set(
                    rng.sample(list(hoods.values()), k=rng.randint(1, 2))
                )
            created["alert subscribers"] += 1

    now = timezone.now()
    for n in range(24):
        template = PAST_ALERTS[n % len(PAST_ALERTS)]
        slug, category, event, severity, t_en, t_es, b_en, b_es, i_en, i_es, areas = template
        identifier = f"riverbend-demo-{n:03d}"
        if Alert.objects.filter(identifier=identifier).exists():
            continue
        published = now - timedelta(days=30 * n + rng.randint(3, 25))
        alert = Alert.objects.create(
            identifier=identifier,
            topic=topics[slug],
            status=AlertStatus.EXPIRED,
            category=category,
            event=event,
            event_es=EVENTS_ES[event],
            severity=severity,
            urgency=Urgency.EXPECTED,
            response_type=ResponseType.MONITOR,
            title_en=t_en,
            title_es=t_es,
            body_en=b_en,
            body_es=b_es,
            instruction_en=i_en,
            instruction_es=i_es,
            effective=published,
            published_at=published,
            expires=published + timedelta(days=2),
            citywide=not areas,
            fan_out_completed_at=published,
        )
        alert.neighborhoods.set([hoods[a] for a in areas if a in hoods])
        created["alerts"] += 1

    if not Alert.objects.filter(identifier="riverbend-demo-active").exists():
        alert = Alert.objects.create(
            identifier="riverbend-demo-active",
            topic=topics["traffic"],
            status=AlertStatus.PUBLISHED,
            category=Category.TRANSPORT,
            event="Road work advisory",
            event_es=EVENTS_ES["Road work advisory"],
            severity=Severity.MODERATE,
            urgency=Urgency.EXPECTED,
            response_type=ResponseType.AVOID,
            title_en="Night road work on River Road this week",
            title_es="Obras nocturnas en River Road esta semana",
            body_en="Crews are replacing a water line under River Road from 9 p.m. to 5 a.m. One lane is open.",
            body_es="Se reemplaza una tubería de agua bajo River Road de 9 p. m. a 5 a. m. Hay un carril abierto.",
            instruction_en="Expect delays at night and follow the detour signs.",
            instruction_es="Espere demoras por la noche y siga las señales de desvío.",
            effective=now - timedelta(hours=6),
            published_at=now - timedelta(hours=6),
            expires=now + timedelta(days=365),
            citywide=False,
            fan_out_completed_at=now,
        )
        alert.neighborhoods.set([hoods[s] for s in ("riverside", "downtown") if s in hoods])
        created["alerts"] += 1
    created["alert subscribers"] += _demo_unconfirmed()
    return created


def _demo_unconfirmed() -> int:
    """Two sign-ups never confirmed, six weeks old: the retention schedule deletes them
    tonight (cityhall.records)."""
    made = 0
    for email in ("never-confirmed-1@example.com", "never-confirmed-2@example.com"):
        subscription, new = Subscription.objects.get_or_create(
            email=email, defaults={"by_email": True, "language": "en"}
        )
        if new:
            Subscription.objects.filter(pk=subscription.pk).update(
                created_at=timezone.now() - timedelta(days=42)
            )
            made += 1
    return made
