"""What kinds of record the city keeps, and how each is disposed of.

`cityhall.records` knows no app: each app registers its record types in its AppConfig.ready
(`permits/records.py`, `code_enforcement/records.py`, `alerts/records.py`), and the core's own
(sessions, staff access logs, history rows) are in `builtin.py`.

A record type says which of its rows are past a rule's period (`expired`), which rows active
legal holds cover (`held`), and what `delete` and `anonymise` do to a batch of them. Anonymising
keeps the row (and so every count made from it) and drops the personal data; it must leave
the row out of `expired` afterwards, so that running disposal twice does nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet

DELETE = "delete"
ANONYMISE = "anonymise"
KEEP = "keep"


@dataclass(frozen=True)
class Holds:
    """The active legal holds, read once per disposal run (a city has a handful)."""

    references: dict[str, set[str]] = field(default_factory=dict)  # record type -> numbers
    addresses: tuple[str, ...] = ()  # as staff typed them
    emails: tuple[str, ...] = ()  # people, by email address, lower case
    user_ids: tuple[int, ...] = ()  # the accounts of those people

    def refs(self, key: str) -> set[str]:
        return self.references.get(key, set())

    def __bool__(self) -> bool:
        return bool(self.references or self.addresses or self.emails or self.user_ids)


@dataclass(frozen=True)
class Group:
    """One value a rule may be limited to (a status group, a permit type, a category)."""

    value: str
    label: Any  # lazy text


class RecordType:
    key: str = ""
    label: Any = ""
    model: type[Model] | None = None
    actions: tuple[str, ...] = (DELETE,)
    # What the period is counted from, in words for the console: "after it closed".
    counted_from: Any = ""
    # Whether KPI roll-ups are computed from these rows (then they are sealed before disposal).
    feeds_kpis: bool = False
    # The names a hold on one record of this type is placed by (permit number, case number).
    reference_label: Any = ""

    def statuses(self) -> list[Group]:
        """The status groups a rule may be limited to ([] when the type has none)."""
        return []

    def kinds(self) -> list[Group]:
        """The kinds (permit types, request categories, models) a rule may be limited to."""
        return []

    def expired(self, *, status: str, kinds: list[str] | None, before: datetime) -> QuerySet:
        """Rows in the status group (or any, when ""), of the kinds (or any, when None),
        whose period is counted from a moment before `before`, and not yet disposed of by
        `anonymise`."""
        raise NotImplementedError

    def held(self, holds: Holds) -> Q:
        """The rows the holds cover (a Q over this type's model)."""
        return Q(pk__in=[])

    def dispose(self, rows: QuerySet, action: str) -> dict[str, int]:
        """Apply the action to these rows (a batch, locked); returns counts by what was done
        ({"deleted": 3} or {"anonymised": 2, "deleted": 1})."""
        raise NotImplementedError

    def of_person(self, user) -> Q | None:
        """This person's rows (what "Delete my account" deletes or anonymises), or None."""
        return None

    def find(self, reference: str) -> Model | None:
        """The record by its number, for a legal hold on one record."""
        return None


class UploadedFiles(RecordType):
    """Uploaded files (documents, photos): deleted, row and file, once their batch commits."""

    file_field: str = ""

    def dispose(self, rows, action):
        delete_files_on_commit(getattr(row, self.file_field) for row in rows)
        deleted, _by_model = rows.delete()
        return {"deleted": deleted}


RECORD_TYPES: dict[str, RecordType] = {}

# Called before disposal with the latest day whose rows may be disposed of (kpis seals its
# roll-ups there).
BEFORE_DISPOSAL: list[Callable[[Any], None]] = []


@dataclass(frozen=True)
class Section:
    """Part of a public-records export: one kind of record about an address or a case."""

    name: str  # a file name: "permits"
    title: str
    records: list[dict]
    withheld: list[str] = field(default_factory=list)  # what was left out and why
    files: list[tuple[str, Any]] = field(default_factory=list)  # (path in the ZIP, FieldFile)


# (address pattern or None, reference or None) -> sections; registered by each app.
PUBLIC_RECORDS: list[Callable[..., Iterable[Section]]] = []


def register(record_type: RecordType) -> None:
    RECORD_TYPES[record_type.key] = record_type


def before_disposal(hook: Callable[[Any], None]) -> None:
    if hook not in BEFORE_DISPOSAL:
        BEFORE_DISPOSAL.append(hook)


def public_records(provider: Callable[..., Iterable[Section]]) -> None:
    if provider not in PUBLIC_RECORDS:
        PUBLIC_RECORDS.append(provider)


def choices() -> list[tuple[str, Any]]:
    return [(key, record_type.label) for key, record_type in RECORD_TYPES.items()]


def delete_files_on_commit(files) -> int:
    """Remove stored files once the transaction that deletes their rows commits: a batch that
    rolls back keeps both its rows and their files (never a row pointing at nothing)."""
    from django.db import transaction

    names = [(file.storage, file.name) for file in files if file and file.name]
    for storage, name in names:
        transaction.on_commit(lambda storage=storage, name=name: storage.delete(name), robust=True)
    return len(names)


def email_q(field_name: str, emails: Iterable[str]) -> Q:
    """Rows whose email field is one of these, whatever the capitals it was typed in."""
    query = Q(pk__in=[])
    for email in emails:
        query |= Q(**{f"{field_name}__iexact": email})
    return query


STREET_TYPES = {
    "st", "street", "ave", "avenue", "rd", "road", "dr", "drive", "blvd", "boulevard", "ln",
    "lane", "way", "ct", "court", "pl", "place", "ter", "terrace", "cir", "circle", "hwy",
    "highway", "pkwy", "parkway",
}  # fmt: skip


def address_q(field_name: str, addresses: Iterable[str], *, exact: bool = False) -> Q:
    """Rows whose address is one of these, however it was typed: the house number and the
    first word of the street ("120 Oak St" covers "120 OAK STREET, Unit 4"). A hold that
    covers a little too much is safe; one that misses a record is not. `exact` (what a
    public-records export releases): the whole street name, word for word ("120 Oak St" is
    not "120 Oakwood Dr" nor "120 Oak Ave")."""
    import re

    query = Q(pk__in=[])
    for address in addresses:
        words = re.findall(r"[0-9A-Za-z]+", address.lower())
        if not words:
            continue
        if words[0].isdigit() and len(words) > 1:
            if exact:
                name = words[1:]
                suffix = ""
                if len(name) > 1 and name[-1] in STREET_TYPES:
                    suffix = name[-1]
                    name = name[:-1]
                street = r"\W+".join(re.escape(word) for word in name)
                pattern = rf"^\s*{words[0]}\s+{street}\y"
                if suffix:
                    # the same kind of street, however abbreviated, or none written
                    kinds = sorted(_street_type_spellings(suffix))
                    pattern += rf"(\W+({'|'.join(kinds)})\y|\s*($|,|\W+(unit|apt|#)))"
                query |= Q(**{f"{field_name}__iregex": pattern})
            else:
                pattern = rf"^\s*{words[0]}\s+[^0-9A-Za-z]*{re.escape(words[1])}"
                query |= Q(**{f"{field_name}__iregex": pattern})
        else:
            query |= Q(**{f"{field_name}__icontains": address.strip()})
    return query


_SPELLINGS = [
    {"st", "street"}, {"ave", "avenue", "av"}, {"rd", "road"}, {"dr", "drive"},
    {"blvd", "boulevard"}, {"ln", "lane"}, {"way"}, {"ct", "court"}, {"pl", "place"},
    {"ter", "terrace"}, {"cir", "circle"}, {"hwy", "highway"}, {"pkwy", "parkway"},
]  # fmt: skip


def _street_type_spellings(suffix: str) -> set[str]:
    for spellings in _SPELLINGS:
        if suffix in spellings:
            return spellings
    return {suffix}
