"""The people the tests act as, in one place.

Alice is a resident, Bob is a second resident (the outsider to Alice's records), and there is
one staff member per role. Staff get a confirmed TOTP device through `give_totp_device`.
"""

from __future__ import annotations

import time

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityhall.models import User
from cityhall.roles import Role, role_group_name

PASSWORD = "correct-horse-battery-staple"


def make_resident(email: str = "alice@example.com", *, language: str = "en", **fields) -> User:
    if fields.get("phone"):  # a persona's number is one they confirmed (double opt-in)
        fields.setdefault("phone_confirmed_at", timezone.now())
    user = User.objects.create_user(
        email=email, password=PASSWORD, preferred_language=language, **fields
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def make_staff(role: Role, email: str | None = None) -> User:
    email = email or f"{role.value.replace('_', '.')}@riverbend.example"
    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return user


def give_totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def totp_code(device: TOTPDevice, *, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step if offset else totp.time
    return f"{totp.token():0{device.digits}d}"


def totp_code_from_secret(secret_base32: str) -> str:
    import base64

    padded = secret_base32 + "=" * (-len(secret_base32) % 8)
    totp = TOTP(base64.b32decode(padded), 30, 0, 6, 0)
    return f"{totp.token():06d}"


def verified_client(user: User, device: TOTPDevice | None = None) -> Client:
    """A test client signed in as `user` with a verified second factor."""
    device = (
        device
        or TOTPDevice.objects.filter(user=user, confirmed=True).first()
        or give_totp_device(user)
    )
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session["otp_verified_at"] = int(time.time())  # the code was just entered
    session.save()
    return client


def signed_in_client(user: User) -> Client:
    """Signed in with a password only: no second factor."""
    client = Client()
    client.force_login(user)
    return client
