"""Phone numbers: parsed and stored in E.164 so SMS providers accept them as they are."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_REGION = "US"


def normalize_phone(raw: str) -> str:
    """Return the number in E.164 (+15550100123), or raise ValidationError."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter a phone number like (555) 010-4400 or +1 555 010 4400."), code="invalid"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("That phone number does not exist. Check the area code and the number of digits."),
            code="invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    if not e164:
        return ""
    number = phonenumbers.parse(e164, DEFAULT_REGION)
    region = phonenumbers.region_code_for_number(number)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def sms_country_allowed(e164: str) -> bool:
    """Whether we text numbers of this country (SMS_ALLOWED_COUNTRIES): texts to premium or
    far-away numbers are how SMS pumping fraud makes money."""
    from django.conf import settings

    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) in settings.SMS_ALLOWED_COUNTRIES


def normalize_sms_phone(raw: str) -> str:
    """A mobile number we may text: E.164, and in an allowed country."""
    from django.conf import settings

    e164 = normalize_phone(raw)
    if e164 and not sms_country_allowed(e164):
        raise ValidationError(
            _("We can only send text messages to numbers in: %(countries)s.")
            % {"countries": ", ".join(settings.SMS_ALLOWED_COUNTRIES)},
            code="country",
        )
    return e164


# --- The day's SMS budget (counted by the delivery engine, shown in the console) ---------------


def sms_budget_key(day=None) -> str:
    from django.utils import timezone

    return f"sms-budget:{day or timezone.localdate()}"


def sms_budget_used(day=None) -> int:
    from django.core.cache import cache

    return int(cache.get(sms_budget_key(day)) or 0)
