"""The periodic housekeeping task, run by a real Celery worker through real Redis."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from cityhall.queue import enqueue_on_commit
from cityhall.records.defaults import create_default_rules
from cityhall.records.models import RetentionRule
from cityhall.records.tasks import dispose
from tests.worker import celery_worker, tasks_done, wait_for


def test_beat_schedules_the_task():
    entry = settings.CELERY_BEAT_SCHEDULE["records-dispose"]
    assert entry["task"] == dispose.name
    assert dispose.acks_late and dispose.reject_on_worker_lost


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_live_worker_clears_expired_sessions_and_is_idempotent():
    # Expired sessions are one record type of the retention schedule (deleted once expired).
    create_default_rules(RetentionRule, RetentionRule.history.model)
    now = timezone.now()
    Session.objects.create(
        session_key="expired", session_data="x", expire_date=now - timedelta(days=1)
    )
    Session.objects.create(
        session_key="current", session_data="x", expire_date=now + timedelta(days=1)
    )
    with celery_worker() as worker:
        dispose.delay()
        assert wait_for(lambda: not Session.objects.filter(session_key="expired").exists())
        dispose.delay()  # a second run finds nothing and harms nothing
        assert wait_for(lambda: tasks_done(worker, dispose.name) == 2)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_commit(monkeypatch):
    from django.db import transaction

    sent = []
    monkeypatch.setattr(dispose, "delay", lambda *a, **k: sent.append(a))
    with transaction.atomic():
        enqueue_on_commit(dispose)
        assert sent == []
    assert sent == [()]
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(dispose)
        raise RuntimeError("rolled back")
    assert sent == [()]
