"""What the system writes on a timeline, in the reader's language.

An event the system words itself (a payment, an inspection booked, a case opened) is stored as
a phrase key and its values, and worded when it is read: a Spanish-speaking resident reads
"Tarjeta: $75.00" on the page of a payment a clerk recorded in English. `text` keeps the English
wording too, for the console, searches and exports. What a person typed stays as they typed it.
"""

from __future__ import annotations

from datetime import date

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

PHRASES = {
    "payment": _("%(method)s: %(amount)s"),
    "inspection_requested": _("Inspection requested: %(inspection)s"),
    "inspection_scheduled": _("Inspection scheduled: %(inspection)s on %(date)s"),
    "inspection_result": _("%(inspection)s: %(result)s."),
    "inspections_passed": _("All required inspections passed."),
    "code_case": _("Code case %(number)s"),
}


def both(value) -> dict[str, str]:
    """A translatable value (a choice's label, a lazy string) in English and Spanish."""
    words = {}
    for language in ("en", "es"):
        with translation.override(language):
            words[language] = str(value)
    return words


def bilingual(obj, field: str = "name") -> dict[str, str]:
    """A configured record's name in both languages (`name_en`, `name_es`)."""
    return {"en": getattr(obj, f"{field}_en"), "es": getattr(obj, f"{field}_es") or ""}


def on(day: date) -> dict[str, str]:
    return {"date": day.isoformat()}


def _value(value, language: str) -> str:
    if isinstance(value, dict):
        if "date" in value:
            return date_format(date.fromisoformat(value["date"]), "DATE_FORMAT")
        return value.get(language) or value.get("en", "")
    return str(value)


def word(phrase: str, params: dict, language: str | None = None) -> str:
    """The phrase with its values, in `language` (the active one by default)."""
    language = (language or translation.get_language() or "en")[:2]
    with translation.override(language):
        values = {key: _value(value, language) for key, value in params.items()}
        return str(PHRASES[phrase]) % values


def said(phrase: str, **params) -> tuple[str, dict]:
    """What a service passes as a timeline event's `text`: the phrase and its values."""
    if phrase not in PHRASES:
        raise KeyError(phrase)
    return phrase, params
