"""“Download my data”: a ZIP of everything City Hall keeps about the person who asks, as JSON
(`my-data.json`) and files (documents and photos), with a README in their language. Each app
says what is the person's through its `selectors.personal_data(user)`; nothing of anyone
else, and nothing staff wrote for staff only."""

from __future__ import annotations

import json
import tempfile
import zipfile

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from alerts import selectors as alerts_selectors
from cityhall.payments.models import Payment
from cityhall.personal_data import fields_of
from code_enforcement import selectors as ce_selectors
from permits import selectors as permit_selectors

PROFILE_LEAVE_OUT = {
    "password",
    "phone_code",
    "phone_code_attempts",
    "is_superuser",
    "is_staff",
    "username",
}


def personal_data(user) -> tuple[dict, list]:
    data = {
        "exported_at": timezone.now().isoformat(),
        "profile": fields_of(user, leave_out=PROFILE_LEAVE_OUT),
    }
    files: list = []
    for selectors in (permit_selectors, ce_selectors, alerts_selectors):
        sections, section_files = selectors.personal_data(user)
        data.update(sections)
        files += section_files
    data["online_payments"] = [
        fields_of(
            payment,
            leave_out={
                "payer",
                "extra_data",
                "token",
                "idempotency_key",
                "customer_ip_address",
                # django-payments' fields City Hall does not use
                "fraud_status",
                "fraud_message",
                "delivery",
                "tax",
                "captured_amount",
                "transaction_id",
                "variant",
            }
            | {
                f"billing_{part}"
                for part in (
                    "first_name",
                    "last_name",
                    "address_1",
                    "address_2",
                    "city",
                    "postcode",
                    "country_code",
                    "country_area",
                    "phone",
                )
            },
        )
        for payment in Payment.objects.filter(payer=user).order_by("pk")
    ]
    return data, files


def build_zip(user):
    """The ZIP in a temporary file (spooled to disk past 10 MB), rewound for streaming."""
    data, files = personal_data(user)
    # Closed by the FileResponse that streams it.
    archive = tempfile.SpooledTemporaryFile(max_size=10 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        with translation.override(user.preferred_language):
            readme = render_to_string(
                "portal/my_data_readme.txt", {"user": user, "CITY": settings.CITY}
            )
        zipped.writestr("README.txt", readme)
        zipped.writestr("my-data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for path, field_file in files:
            try:
                with field_file.open("rb") as handle:
                    zipped.writestr(path, handle.read())
            except FileNotFoundError:
                zipped.writestr(f"{path}.missing.txt", "This file could not be found.")
    archive.seek(0)
    return archive
