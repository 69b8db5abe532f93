"""Demo data for the fictional City of Riverbend. Loading twice changes nothing."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Neighborhood, User
from .places import DEMO_NEIGHBORHOODS, neighborhoods_load
from .roles import Role
from .staff import staff_create

DEMO_STAFF = [
    ("admin@riverbend.example", Role.CITY_ADMINISTRATOR, "Alex", "Rivera"),
    ("tech@riverbend.example", Role.PERMIT_TECHNICIAN, "Tomás", "Herrera"),
    ("reviewer@riverbend.example", Role.PLAN_REVIEWER, "Priya", "Nair"),
    ("inspector@riverbend.example", Role.CODE_INSPECTOR, "Isabel", "Cruz"),
    ("supervisor@riverbend.example", Role.CODE_SUPERVISOR, "Sam", "Okafor"),
    ("comms@riverbend.example", Role.COMMUNICATIONS_OFFICER, "Carmen", "Lopez"),
    ("manager@riverbend.example", Role.MANAGER, "Morgan", "Lee"),
]

DEMO_RESIDENTS = [
    {
        "email": "maria@example.com",
        "first_name": "María",
        "last_name": "González",
        "preferred_language": "es",
        "home_address": "214 Calle Palma",
        "phone": "+14082104412",
        "neighborhood": "las-palmas",
    },
    {
        "email": "john@example.com",
        "first_name": "John",
        "last_name": "Miller",
        "preferred_language": "en",
        "home_address": "88 Oak Hill Road",
        "phone": "",
        "neighborhood": "oak-hill",
    },
]


@transaction.atomic
def demo_load() -> dict[str, int]:
    password = settings.DEMO_PASSWORD
    created = {"neighborhoods": 0, "staff": 0, "residents": 0}
    created["neighborhoods"], _updated = neighborhoods_load(path=DEMO_NEIGHBORHOODS)

    for email, role, first, last in DEMO_STAFF:
        if not User.objects.filter(email=email).exists():
            staff_create(
                email=email,
                role=role,
                password=password,
                first_name=first,
                last_name=last,
                superuser=role == Role.CITY_ADMINISTRATOR,
            )
            created["staff"] += 1

    for data in DEMO_RESIDENTS:
        if User.objects.filter(email=data["email"]).exists():
            continue
        values = dict(data)
        values["neighborhood"] = Neighborhood.objects.get(slug=values["neighborhood"])
        # The demo's numbers are taken as confirmed (a real one confirms by a texted code).
        values["phone_confirmed_at"] = timezone.now() if values["phone"] else None
        user = User(username=data["email"], **values)
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        created["residents"] += 1
    return created
