"""The alert workflow: the rules publishing enforces."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import services
from alerts.constants import AlertStatus, MessageType
from alerts.models import Alert
from alerts.selectors import banner_alerts
from alerts.workflow import TransitionNotAllowed
from cityhall.roles import Role
from tests.personas import make_staff

from .factories import make_alert

pytestmark = pytest.mark.django_db

STATES = list(AlertStatus)


@pytest.fixture
def officer():
    return make_staff(Role.COMMUNICATIONS_OFFICER)


@pytest.fixture
def inspector():
    return make_staff(Role.CODE_INSPECTOR)


# The table is walked for every state, move and role in tests/test_workflow_engine.py.


def test_publishing_needs_spanish_unless_english_only_which_is_recorded(officer):
    alert = make_alert(title_es="", body_es="")
    with pytest.raises(services.AlertNotReady) as problem:
        services.alert_publish(alert=alert, actor=officer)
    assert "Spanish headline" in str(problem.value)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DRAFT

    alert.english_only = True
    alert.save()
    published = services.alert_publish(alert=alert, actor=officer)
    assert published.status == AlertStatus.PUBLISHED
    record = published.history.latest()
    assert record.english_only is True
    assert record.history_user == officer


def test_expiry_before_effective_is_refused(officer):
    now = timezone.now()
    alert = make_alert()
    alert.expires = now - timedelta(hours=1)
    alert.effective = now
    with pytest.raises(ValidationError, match="expire after it takes effect"):
        alert.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        alert.save()


def test_only_communications_and_administrators_publish(inspector, officer):
    alert = make_alert()
    with pytest.raises(TransitionNotAllowed):
        services.alert_publish(alert=alert, actor=inspector)
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.DRAFT
    services.alert_publish(alert=alert, actor=officer)


def test_publishing_enqueues_fan_out_after_commit(officer, django_capture_on_commit_callbacks):
    alert = make_alert()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.alert_publish(alert=alert, actor=officer)
    assert callbacks, "the fan-out must wait for the commit"


def test_scheduled_alert_publishes_itself_when_due(officer):
    alert = make_alert()
    services.alert_schedule(
        alert=alert, actor=officer, publish_at=timezone.now() + timedelta(minutes=5)
    )
    assert services.publish_due_alerts() == 0
    assert services.publish_due_alerts(now=timezone.now() + timedelta(minutes=6)) == 1
    alert.refresh_from_db()
    assert alert.status == AlertStatus.PUBLISHED
    assert alert.published_by == officer


def test_schedule_in_the_past_is_refused(officer):
    with pytest.raises(ValidationError, match="future"):
        services.alert_schedule(alert=make_alert(), actor=officer, publish_at=timezone.now())


def test_cancel_sends_a_cap_cancel_referencing_the_original(
    officer, django_capture_on_commit_callbacks
):
    alert = services.alert_publish(alert=make_alert(severity="Severe"), actor=officer)
    assert [a["pk"] for a in banner_alerts()] == [alert.pk]
    with django_capture_on_commit_callbacks(execute=True):
        cancel = services.alert_cancel(
            alert=alert, actor=officer, reason_en="Fixed", reason_es="Arreglado"
        )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED
    assert cancel.msg_type == MessageType.CANCEL
    assert cancel.references == alert
    assert cancel.body_es == "Arreglado"
    assert banner_alerts() == []  # the banner cache was dropped on commit


def test_update_supersedes_the_original(officer):
    alert = services.alert_publish(alert=make_alert(), actor=officer)
    update = services.alert_prepare_update(alert=alert, actor=officer)
    assert update.status == AlertStatus.DRAFT
    assert update.msg_type == MessageType.UPDATE
    update.title_en = "Water is safe again in Eastgate"
    update.save()
    services.alert_publish(alert=update, actor=officer)
    alert.refresh_from_db()
    assert alert.superseded_at is not None
    assert list(Alert.objects.active()) == [update]


def test_expiry_by_the_system(officer):
    alert = services.alert_publish(alert=make_alert(), actor=officer)
    assert services.expire_due_alerts(now=alert.expires + timedelta(seconds=1)) == 1
    alert.refresh_from_db()
    assert alert.status == AlertStatus.EXPIRED
    assert alert.history.latest().history_user.username == "system"


def test_cancelling_a_draft_sends_nothing(officer):
    alert = make_alert()
    result = services.alert_cancel(alert=alert, actor=officer)
    assert result.pk == alert.pk
    assert Alert.objects.count() == 1


def test_banner_cache_is_not_stale_after_expiry(officer, django_capture_on_commit_callbacks):
    alert = services.alert_publish(alert=make_alert(severity="Extreme"), actor=officer)
    assert banner_alerts()
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_expire(alert=alert)
    assert banner_alerts() == []
    cache.clear()
