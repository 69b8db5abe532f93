"""Finding a place in the city's address list the way people type it: "120 Oak St",
"120 oak street, apt 4", "120 OAK ST." all find "120 Oak Street"; house numbers sort as numbers;
when nothing matches exactly, the nearest numbers on the same street (or streets with the same
name) are offered instead of a dead end."""

from __future__ import annotations

import math
import operator
import re
import unicodedata
from dataclasses import dataclass
from functools import reduce

from django.db.models import Q

from .models import Address

SUFFIXES = {
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "rd": "road",
    "dr": "drive",
    "blvd": "boulevard",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "hwy": "highway",
    "pkwy": "parkway",
    "cir": "circle",
    "ter": "terrace",
}
# "#4", "apt 4", "Apt. 4B", "unit 12", "suite 200", "space 7" at the end of what was typed.
UNIT = re.compile(
    r"(?:,\s*|\s+)(?:#\s*|(?:apt|apartment|unit|ste|suite|space|spc|dept|depto)\.?\s*#?\s*)"
    r"([\w-]+)\s*$",
    re.IGNORECASE,
)
CANDIDATES = 2000  # at most this many rows of one street are read to rank them
NEAR_METRES = 400  # a map point farther than this from every address is "near" nothing


def _plain(text: str) -> str:
    """Lower case, accents off: "Río" and "rio" are the same street."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Typed:
    number: int | None
    street: tuple[str, ...]  # normalised words: ("oak", "street"), accents off
    unit: str  # "Apt 4" as typed, or ""
    spelled: tuple[str, ...] = ()  # the same words with their accents, for the database


def parse(text: str) -> Typed:
    text = (text or "").strip()
    unit = ""
    found = UNIT.search(text)
    if found:
        unit = text[found.start() :].strip(" ,")
        text = text[: found.start()]
    spelled = re.findall(r"\w+", text.lower())
    number = None
    if spelled and spelled[0].isdigit():
        number = int(spelled[0])
        spelled = spelled[1:]
    spelled = [SUFFIXES.get(word, word) for word in spelled]
    return Typed(number, tuple(_plain(word) for word in spelled), unit, tuple(spelled))


@dataclass(frozen=True)
class Found:
    exact: Address | None  # the address typed, if the city has it
    matches: list[Address]  # the exact one first, then the nearest numbers / same street
    unit: str  # what was typed after the street ("Apt 4"), kept for the report
    numbered: bool = True  # a house number was typed (else: a street, to choose along)


def search(text: str, *, limit: int = 8) -> Found:
    typed = parse(text)
    if not typed.street and typed.number is None:
        return Found(None, [], typed.unit, typed.number is not None)
    rows = _candidates(typed, every_word=True) or _candidates(typed, every_word=False)
    scored = []
    for address in rows:
        number, street = _split(address.line)
        same_street = street == typed.street
        if typed.number is not None and number is not None:
            distance = abs(number - typed.number)
        else:
            distance = 0
        scored.append(((not same_street, distance, street, number or 0), address))
    scored.sort(key=operator.itemgetter(0))
    matches = [address for _key, address in scored[:limit]]
    exact = next(
        (
            address
            for address in matches
            if _split(address.line) == (typed.number, typed.street) and typed.number is not None
        ),
        None,
    )
    return Found(exact, matches, typed.unit, typed.number is not None)


def _split(line: str) -> tuple[int | None, tuple[str, ...]]:
    typed = parse(line)
    return typed.number, typed.street


def _candidates(typed: Typed, *, every_word: bool) -> list[Address]:
    words = [(plain, spelled) for plain, spelled in zip(typed.street, typed.spelled, strict=True)]
    words = [(plain, spelled) for plain, spelled in words if len(plain) > 1]
    if not words:
        if typed.number is None:
            return []
        condition = Q(line__startswith=f"{typed.number} ")
    else:
        # Spelled as stored: the long suffix ("street") is what the list holds; a word typed
        # without its accent ("rio") is also looked for as typed.
        parts = [Q(line__icontains=plain) | Q(line__icontains=spelled) for plain, spelled in words]
        condition = reduce(operator.and_ if every_word else operator.or_, parts)
    return list(Address.objects.filter(condition).order_by()[:CANDIDATES])


def nearest(latitude: float, longitude: float) -> Address | None:
    """The address closest to a map point (within NEAR_METRES), from a small box around it."""
    box = 0.005  # about 550 m of latitude
    rows = list(
        Address.objects.filter(
            latitude__range=(latitude - box, latitude + box),
            longitude__range=(longitude - box, longitude + box),
        )[:CANDIDATES]
    )

    def metres(address: Address) -> float:
        dy = (address.latitude - latitude) * 111_320
        dx = (address.longitude - longitude) * 111_320 * math.cos(math.radians(latitude))
        return math.hypot(dx, dy)

    best = min(rows, key=metres, default=None)
    return best if best is not None and metres(best) <= NEAR_METRES else None
