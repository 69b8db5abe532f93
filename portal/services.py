"""Writes for the resident's own account: their phone number's double opt-in."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from alerts.services import notify_address
from cityhall import ratelimit
from cityhall.models import User, audit_as

MAX_CODE_ATTEMPTS = 5


@transaction.atomic
def phone_send_code(*, request, user) -> None:
    """Text a code to the resident's (new) number; nothing else is texted there until it is
    typed back. Limited like every other text a visitor can trigger."""
    ratelimit.check(request, "subscribe", destinations=(user.phone,))
    user.phone_code = f"{secrets.randbelow(1_000_000):06d}"
    user.phone_code_attempts = 0
    user.phone_confirmed_at = None
    audit_as(user, user).save(
        update_fields=["phone_code", "phone_code_attempts", "phone_confirmed_at"]
    )
    notify_address(
        phone=user.phone,
        language=user.preferred_language,
        template="phone_code",
        context={"code": user.phone_code},
    )


@transaction.atomic
def phone_confirm(*, user, code: str) -> bool:
    """True once the typed code matches (five tries, then a new code is needed)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.phone_confirmed_at:
        return True
    if not user.phone_code or user.phone_code_attempts >= MAX_CODE_ATTEMPTS:
        return False
    if secrets.compare_digest(user.phone_code, code.strip()):
        user.phone_confirmed_at = timezone.now()
        user.phone_code = ""
        audit_as(user, user).save(update_fields=["phone_confirmed_at", "phone_code"])
        return True
    user.phone_code_attempts += 1
    audit_as(user, user).save(update_fields=["phone_code_attempts"])
    return False


def confirmation_resend(request, *, email: str) -> bool:
    """Send a new confirmation link to `email` if an account waits for one (True if sent).
    Limited per address and per client; allauth's own limit (one per address every three
    minutes) applies too, so a burst of clicks sends one email."""
    from allauth.account.models import EmailAddress
    from allauth.core import ratelimit as allauth_ratelimit

    ratelimit.check(request, "resend_confirmation", destinations=(email.lower(),))
    address = (
        EmailAddress.objects.filter(email__iexact=email, verified=False)
        .select_related("user")
        .first()
    )
    if address is None or EmailAddress.objects.filter(user=address.user, verified=True).exists():
        return False
    if not allauth_ratelimit.consume(request, action="confirm_email", key=address.email.lower()):
        return False
    address.send_confirmation(request, signup=False)
    return True
