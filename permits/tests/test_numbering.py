"""Permit numbers are unique and gap-free, even when people submit at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from cityhall.models import NumberSequence
from cityhall.numbering import permit_sequence
from permits import services
from permits.constants import Status
from permits.models import Application, TimelineEvent
from tests.personas import make_resident

from .factories import make_application, make_permit_type

DRAFTS = 12
THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_get_unique_gap_free_numbers():
    permit_type = make_permit_type("BLD")
    drafts = [
        make_application(make_resident(f"applicant{n}@example.com"), permit_type)
        for n in range(DRAFTS)
    ]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def submit(batch):
        try:
            barrier.wait(timeout=30)
            for draft in batch:
                services.application_submit(application=draft, actor=draft.applicant)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(drafts[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a submit never finished"
    assert errors == []

    year = timezone.localdate().year
    numbers = sorted(
        Application.objects.filter(permit_type=permit_type).values_list("number", flat=True)
    )
    assert numbers == [f"BLD-{year}-{n:06d}" for n in range(1, DRAFTS + 1)]
    assert len(set(numbers)) == DRAFTS
    assert NumberSequence.objects.get(key=permit_sequence(permit_type.code, year)).last == DRAFTS
    assert not Application.objects.filter(status=Status.DRAFT).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_submit_gives_its_number_back(alice, monkeypatch):
    permit_type = make_permit_type("BLD")
    year = timezone.localdate().year
    first = make_application(alice, permit_type, status="submitted")
    assert first.number == f"BLD-{year}-000001"

    unlucky = make_application(alice, permit_type)

    def broken(*args, **kwargs):
        raise RuntimeError("calendar unavailable")

    with monkeypatch.context() as patch:
        # Fails inside the transaction, after the number was taken.
        patch.setattr(services, "add_business_days", broken)
        with pytest.raises(RuntimeError):
            services.application_submit(application=unlucky, actor=alice)
    unlucky.refresh_from_db()
    assert unlucky.status == Status.DRAFT and unlucky.number is None
    assert not TimelineEvent.objects.filter(application=unlucky).exists()
    assert NumberSequence.objects.get(key=permit_sequence(permit_type.code, year)).last == 1

    services.application_submit(application=unlucky, actor=alice)
    unlucky.refresh_from_db()
    assert unlucky.number == f"BLD-{year}-000002"
    assert NumberSequence.objects.get(key=permit_sequence(permit_type.code, year)).last == 2
