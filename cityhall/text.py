"""Words for people: lists read as a sentence does, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext


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
