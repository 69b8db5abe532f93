"""Gap-free record numbers (permits, code cases), one helper for every app."""

from __future__ import annotations

from .models import NumberSequence


def next_number(key: str) -> int:
    """The next number of sequence `key`, inside the caller's transaction.

    The sequence row stays locked until that transaction commits: concurrent takers queue here,
    so numbers are unique and have no gaps (a rollback gives the number back).
    """
    NumberSequence.objects.bulk_create([NumberSequence(key=key)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(key=key)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def permit_sequence(code: str, year: int) -> str:
    return f"permit:{code}:{year}"


def case_sequence(year: int) -> str:
    return f"case:{year}"


def set_at_least(key: str, last: int) -> None:
    """Make sure the next number of `key` comes after `last` (records loaded in bulk)."""
    sequence, _created = NumberSequence.objects.select_for_update().get_or_create(key=key)
    if sequence.last < last:
        sequence.last = last
        sequence.save(update_fields=["last"])
