"""Public-records exports: every record about an address or a case, as a ZIP, with third
parties' personal data redacted by the rules each app states (its `public_records`)."""

from __future__ import annotations

import io
import json
import zipfile

from django.utils import timezone

from . import registry

README = """Public records from {city}
About: {subject}
Made: {made} by the {city} records office.

records.json holds the records, one section per kind of record. Personal data of people
other than the city's officials has been left out or replaced by "[redacted]" under these
rules:

- Email addresses and phone numbers in any text are replaced by "[redacted]".
{withheld}

Kept: the names of city staff acting for the city, of property owners (public in the county
assessor's roll), and of contractors and businesses (licensed, public).

Counts: {counts}
"""


def build(*, address: str = "", reference: str = "", city: str = "the city") -> tuple[bytes, dict]:
    """(ZIP bytes, {section name: records}) for an address or one record number."""
    sections: list[registry.Section] = []
    for provider in registry.PUBLIC_RECORDS:
        sections.extend(provider(address=address or None, reference=reference or None))
    counts = {section.name: len(section.records) for section in sections}
    withheld = []
    for section in sections:
        for line in section.withheld:
            if line not in withheld:
                withheld.append(line)
    made = timezone.localtime()
    document = {
        "about": {"address": address} if address else {"record": reference},
        "made": made.isoformat(timespec="seconds"),
        "sections": [
            {"name": section.name, "title": section.title, "records": section.records}
            for section in sections
        ],
        "withheld": withheld,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            README.format(
                city=city,
                subject=address or reference,
                made=made.strftime("%Y-%m-%d %H:%M"),
                withheld="\n".join(f"- {line}" for line in withheld),
                counts=", ".join(f"{name}: {count}" for name, count in counts.items()),
            ),
        )
        archive.writestr("records.json", json.dumps(document, indent=2, ensure_ascii=False))
    return buffer.getvalue(), counts
