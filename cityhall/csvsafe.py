"""CSV that a spreadsheet cannot be tricked into running (OWASP "CSV injection").

A cell that starts with =, +, -, @, a tab or a carriage return is read by Excel and LibreOffice
as a formula; prefixing it with an apostrophe makes it text. Plain numbers (a negative longitude)
are left as they are, so the data stays numeric.
"""

from __future__ import annotations

import csv
import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS) and not _NUMBER.match(text):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, target, **options):
        self._writer = csv.writer(target, **options)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)
