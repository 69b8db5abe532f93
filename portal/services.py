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


@transaction.atomic
def account_delete(*, user) -> dict[str, int]:
    """ "Delete my account": each app deletes what is only the person's and keeps, without the
    person, what the city must keep (cityhall/README: "Delete my account"). The account itself
    stays as an anonymous, inactive row (submitted applications point at it), with no email,
    name, phone, address or password; its own history rows go."""
    from allauth.account.models import EmailAddress

    from alerts import services as alerts_services
    from cityhall.payments import services as payment_services
    from cityhall.records.services import person_on_hold
    from code_enforcement import services as ce_services
    from permits import services as permit_services

    if user.is_staff:
        raise ValueError("Staff accounts are closed by the city administrator.")
    if person_on_hold(user):
        raise ValueError("A legal hold covers this person: nothing of theirs may be deleted.")
    done: dict[str, int] = {}
    for forget in (
        permit_services.person_forget,
        ce_services.person_forget,
        alerts_services.person_forget,
        payment_services.person_forget,
    ):
        done.update(forget(user=user))
    EmailAddress.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.username = user.email
    user.first_name = user.last_name = ""
    user.phone = user.home_address = user.phone_code = ""
    user.phone_confirmed_at = None
    user.neighborhood = None
    user.notify_by_email = user.notify_by_sms = False
    user.is_active = False
    user.set_unusable_password()  # every session of the account ends with it
    user.save()
    user.history.all().delete()
    return done
