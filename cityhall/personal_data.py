"""A person's own records as plain data, for "Download my data": every app's `selectors`
offers `personal_data(user)`, returning (sections, files) built with these helpers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.db import models


def plain(value):
    """A field's value as JSON: dates in ISO 8601, money as a string, ids as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)


def fields_of(obj: models.Model, *, leave_out: set[str] = frozenset()) -> dict:
    """Every stored field of `obj` but files (they go in the ZIP) and `leave_out` (secrets,
    staff-only notes, other people)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in leave_out or isinstance(field, models.FileField):
            continue
        if field.is_relation:
            related = getattr(obj, field.name, None)
            data[field.name] = str(related) if related is not None else None
        else:
            data[field.name] = plain(getattr(obj, field.attname))
    return data


def file_name(prefix: str, stored_name: str, shown_name: str = "") -> str:
    """Where a file goes in the ZIP: under its record, by the name the person gave it."""
    base = (shown_name or stored_name.rsplit("/", 1)[-1]).replace("/", "_").replace("\\", "_")
    return f"files/{prefix}/{base}"
