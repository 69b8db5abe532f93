"""Words for people: lists read as a sentence does, in the active language."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.defaultfilters import linebreaks_filter
from django.utils.html import format_html
from django.utils.translation import get_language, gettext


def words_and(items: list[str]) -> str:
    """ "Eastgate", "Eastgate and Las Palmas", "Downtown, Eastgate and Las Palmas" (in Spanish
    "… y …")."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    return gettext("%(first)s and %(last)s") % {
        "first": ", ".join(items[:-1]),
        "last": items[-1],
    }


# --- What staff write for residents ---------------------------------------------------------------
# Staff write in English; for the text a resident reads (an information request, conditions of
# approval, a reason, a finding on a notice) they may add the Spanish too. A Spanish reader gets
# the Spanish when there is one; otherwise the English, marked as such (`lang="en"` and a line
# saying staff wrote it in English), never passed off as Spanish.


@dataclass(frozen=True)
class StaffText:
    en: str
    es: str = ""

    def __bool__(self) -> bool:
        return bool(self.en.strip() or self.es.strip())

    def __str__(self) -> str:
        return self.read()[0]

    def read(self, language: str | None = None) -> tuple[str, str]:
        """(the text, its language) for a reader of `language` (the active one by default)."""
        language = (language or get_language() or "en")[:2]
        if language == "es" and self.es.strip():
            return self.es, "es"
        return self.en, "en"


def staff_words(text, spanish: str = "", *, html: bool = True) -> str:
    """Staff's text for the active reader, marked with its language when it is not theirs."""
    if not isinstance(text, StaffText):
        text = StaffText(str(text or ""), spanish or "")
    if not text:
        return ""
    words, language = text.read()
    reader = (get_language() or "en")[:2]
    note = ""
    if language != reader:
        note = gettext("City staff wrote this in English.")
    if not html:
        return f"{words}\n({note})" if note else words
    body = format_html(
        '<div lang="{}">{}</div>', language, linebreaks_filter(words, autoescape=True)
    )
    if note:
        body += format_html('<p class="font-body-2xs text-base margin-top-05">{}</p>', note)
    return body
