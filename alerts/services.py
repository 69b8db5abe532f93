"""Writes for alerts, subscriptions and the notification hub.

Other apps reach people only through `notify(...)` (owned by the hub in delivery.py). Every
status change of an alert goes through the workflow engine (`ALERTS` in workflow.py).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityhall.models import audit_as

from .constants import BANNER_SEVERITIES, AlertStatus, Channel, DeliveryStatus, MessageType
from .delivery import deliveries_retry_failed, enqueue_fan_out, notify, notify_address
from .models import Alert, Delivery, Subscription
from .workflow import ALERTS

__all__ = ["notify", "notify_address"]  # other apps reach people through alerts.services

BANNER_CACHE_KEY = "alerts:banner:v1"


class AlertNotReady(ValidationError):
    pass


# --- Alerts -----------------------------------------------------------------------------------


def alert_publish_problems(alert: Alert, *, now=None) -> list[str]:
    """What stops this alert from going out, in words an officer can act on."""
    now = now or timezone.now()
    problems = []
    if not alert.english_only:
        if not alert.title_es.strip():
            problems.append(_("Add the Spanish headline, or tick “English only”."))
        if not alert.body_es.strip():
            problems.append(_("Add the Spanish description, or tick “English only”."))
        if not alert.event_es.strip():
            problems.append(_("Add the Spanish event name, or tick “English only”."))
        if alert.instruction_en.strip() and not alert.instruction_es.strip():
            problems.append(_("Add the Spanish “what to do”, or tick “English only”."))
    if alert.expires <= alert.effective:
        problems.append(_("The alert must expire after it takes effect."))
    if alert.expires <= now:
        problems.append(_("The expiry time has already passed."))
    if not alert.citywide and not alert.neighborhoods.exists():
        problems.append(_("Choose at least one neighborhood, or send it to the whole city."))
    return problems


def _banner_changed() -> None:
    transaction.on_commit(lambda: cache.delete(BANNER_CACHE_KEY))


@ALERTS.handler("publish")
def alert_publish(*, alert: Alert, actor) -> Alert:
    """Publish now (actor=None: the scheduler publishing a scheduled alert)."""

    def publish(locked: Alert) -> None:
        problems = alert_publish_problems(locked)
        if problems:
            raise AlertNotReady(problems)
        now = timezone.now()
        locked.published_at = now
        locked.published_by = actor or locked.published_by
        if locked.references_id and locked.msg_type == MessageType.UPDATE:
            original = Alert.objects.select_for_update().get(pk=locked.references_id)
            original.superseded_at = now
            audit_as(original, actor).save(update_fields=["superseded_at", "updated_at"])

    move = "publish_scheduled" if alert.status == AlertStatus.SCHEDULED else "publish"
    return ALERTS.transition(alert, move, actor=actor, apply=publish, notify=_sent)


def _sent(alert: Alert) -> None:
    enqueue_fan_out(alert.pk, urgent=alert.severity in BANNER_SEVERITIES)
    _banner_changed()


@ALERTS.handler("schedule")
def alert_schedule(*, alert: Alert, actor, publish_at) -> Alert:
    if publish_at <= timezone.now():
        raise ValidationError({"publish_at": _("Choose a time in the future.")})

    def schedule(locked: Alert) -> None:
        problems = alert_publish_problems(locked)
        if problems:
            raise AlertNotReady(problems)
        locked.publish_at = publish_at
        locked.published_by = actor

    return ALERTS.transition(alert, "schedule", actor=actor, apply=schedule)


@ALERTS.handler("unschedule")
def alert_unschedule(*, alert: Alert, actor) -> Alert:
    def unschedule(locked: Alert) -> None:
        locked.publish_at = None

    return ALERTS.transition(alert, "unschedule", actor=actor, apply=unschedule)


@ALERTS.handler("discard")
@ALERTS.handler("cancel")
@transaction.atomic
def alert_cancel(*, alert: Alert, actor, reason_en: str = "", reason_es: str = "") -> Alert:
    """Cancel. A published alert gets a CAP Cancel message that goes to the same people; the
    cancellation is returned (the alert itself when nothing had been sent)."""
    was_published = alert.status == AlertStatus.PUBLISHED
    move = "discard" if alert.status == AlertStatus.DRAFT else "cancel"
    alert = ALERTS.transition(alert, move, actor=actor, notify=lambda locked: _banner_changed())
    if not was_published:
        return alert
    now = timezone.now()
    cancel = Alert(
        topic=alert.topic,
        msg_type=MessageType.CANCEL,
        references=alert,
        status=AlertStatus.PUBLISHED,
        title_en=f"Cancelled: {alert.title_en}",
        title_es=f"Cancelada: {alert.title_es}" if alert.title_es else "",
        body_en=reason_en or "This alert has been cancelled. No further action is needed.",
        body_es=(reason_es or "Esta alerta fue cancelada. No necesita hacer nada más.")
        if alert.title_es
        else "",
        english_only=alert.english_only,
        category=alert.category,
        event=alert.event,
        event_es=alert.event_es,
        same_event=alert.same_event,
        urgency="Past",
        severity="Minor",
        certainty="Observed",
        response_type="AllClear",
        effective=now,
        expires=max(alert.expires, now + timedelta(hours=1)),
        citywide=alert.citywide,
        published_at=now,
        created_by=actor,
        published_by=actor,
    )
    audit_as(cancel, actor).save()
    cancel.neighborhoods.set(alert.neighborhoods.all())
    enqueue_fan_out(cancel.pk, urgent=alert.severity in BANNER_SEVERITIES)
    return cancel


def alert_expire(*, alert: Alert) -> Alert:
    return ALERTS.transition(alert, "expire", actor=None, notify=lambda locked: _banner_changed())


@ALERTS.handler("update")
@transaction.atomic
def alert_prepare_update(*, alert: Alert, actor) -> Alert:
    """A new draft (CAP Update) pre-filled from a published alert; publishing it replaces it."""
    if alert.status != AlertStatus.PUBLISHED or alert.msg_type == MessageType.CANCEL:
        raise ValidationError(_("Only a published alert can be updated."))
    ALERTS.check(alert, "update", actor)
    fields = [
        "topic",
        "title_en",
        "title_es",
        "body_en",
        "body_es",
        "instruction_en",
        "instruction_es",
        "english_only",
        "category",
        "event",
        "event_es",
        "same_event",
        "urgency",
        "severity",
        "certainty",
        "response_type",
        "onset",
        "expires",
        "citywide",
    ]
    update = Alert(
        msg_type=MessageType.UPDATE, references=alert, created_by=actor, effective=timezone.now()
    )
    for name in fields:
        setattr(update, name, getattr(alert, name))
    audit_as(update, actor).save()
    update.neighborhoods.set(alert.neighborhoods.all())
    return update


@ALERTS.handler("retry")
def alert_retry_failed(*, alert: Alert, actor) -> int:
    """The console's "retry failed": failed deliveries of this alert get another round."""
    ALERTS.check(alert, "retry", actor)
    return deliveries_retry_failed(alert=alert)


def publish_due_alerts(*, now=None) -> int:
    now = now or timezone.now()
    published = 0
    for alert in Alert.objects.filter(status=AlertStatus.SCHEDULED, publish_at__lte=now):
        try:
            alert_publish(alert=alert, actor=None)
            published += 1
        except AlertNotReady:
            # Became invalid while waiting (e.g. expired): leave it scheduled for an officer.
            continue
    return published


def expire_due_alerts(*, now=None) -> int:
    now = now or timezone.now()
    expired = 0
    for alert in Alert.objects.filter(status=AlertStatus.PUBLISHED, expires__lte=now):
        alert_expire(alert=alert)
        expired += 1
    return expired


# --- Subscriptions ---------------------------------------------------------------------------


@transaction.atomic
def subscription_save_for_user(
    *, user, topics, citywide: bool, neighborhoods, by_email: bool, by_sms: bool, language: str
) -> Subscription:
    """A resident's own subscription; their verified account email is already confirmed."""
    subscription, _created = Subscription.objects.select_for_update().get_or_create(
        user=user, defaults={"confirmed_at": timezone.now()}
    )
    subscription.language = language
    subscription.by_email = by_email
    subscription.by_sms = by_sms and bool(user.phone)
    subscription.citywide = citywide
    subscription.confirmed_at = subscription.confirmed_at or timezone.now()
    audit_as(subscription, user).save()
    subscription.topics.set(topics)
    subscription.neighborhoods.set([] if citywide else neighborhoods)
    return subscription


@transaction.atomic
def subscription_start(
    *, email: str = "", phone: str = "", language: str, topics, citywide: bool, neighborhoods
) -> Subscription:
    """Someone without an account subscribes; nothing is sent until they confirm."""
    subscription = Subscription(
        email=email.strip().lower(),
        phone=phone,
        language=language,
        by_email=bool(email),
        by_sms=bool(phone) and not email,
        citywide=citywide,
    )
    if subscription.by_sms:
        subscription.sms_code = f"{secrets.randbelow(1_000_000):06d}"
    audit_as(subscription, None).save()
    subscription.topics.set(topics)
    subscription.neighborhoods.set([] if citywide else neighborhoods)
    from .tokens import confirm_email_token

    if subscription.by_email:
        notify_address(
            email=subscription.email,
            language=language,
            template="subscription_confirm",
            context={"token": confirm_email_token(subscription.pk), "subscription": subscription},
            subscription=subscription,  # so the email carries an unsubscribe link too
        )
    else:
        notify_address(
            phone=subscription.phone,
            language=language,
            template="subscription_code",
            context={"code": subscription.sms_code},
        )
    return subscription


def _replace_older(subscription: Subscription) -> None:
    same = Subscription.objects.filter(user__isnull=True).exclude(pk=subscription.pk)
    if subscription.email:
        same.filter(email=subscription.email).delete()
    elif subscription.phone:
        same.filter(phone=subscription.phone).delete()


@transaction.atomic
def subscription_confirm_email(*, subscription_id: int) -> Subscription | None:
    subscription = Subscription.objects.select_for_update().filter(pk=subscription_id).first()
    if subscription is None:
        return None
    if subscription.confirmed_at is None:
        subscription.confirmed_at = timezone.now()
        audit_as(subscription, None).save()
        _replace_older(subscription)
    return subscription


MAX_CODE_ATTEMPTS = 5


def subscription_resend_code(*, http_request, subscription_id: int) -> bool:
    """A new texted code for an unconfirmed SMS subscription (the old one stops working; the
    five tries start again). Limited like the sign-up itself: per connection and per number.
    Returns False when there is nothing to resend (confirmed already, or not by text)."""
    from cityhall import ratelimit

    subscription = Subscription.objects.filter(
        pk=subscription_id, by_sms=True, confirmed_at__isnull=True
    ).first()
    if subscription is None:
        return False
    ratelimit.check(http_request, "subscribe", destinations=(subscription.phone,))
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        locked.sms_code = f"{secrets.randbelow(1_000_000):06d}"
        locked.sms_code_attempts = 0
        audit_as(locked, None).save(update_fields=["sms_code", "sms_code_attempts"])
        notify_address(
            phone=locked.phone,
            language=locked.language,
            template="subscription_code",
            context={"code": locked.sms_code},
        )
    return True


@transaction.atomic
def subscription_confirm_sms(*, subscription_id: int, code: str) -> bool:
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    if subscription.confirmed_at:
        return True
    if subscription.sms_code_attempts >= MAX_CODE_ATTEMPTS:
        return False
    if secrets.compare_digest(subscription.sms_code, code.strip()):
        subscription.confirmed_at = timezone.now()
        subscription.sms_code = ""
        audit_as(subscription, None).save()
        _replace_older(subscription)
        return True
    subscription.sms_code_attempts += 1
    audit_as(subscription, None).save(update_fields=["sms_code_attempts"])
    return False


@transaction.atomic
def unsubscribe(*, payload: dict) -> bool:
    """Act on a verified unsubscribe token. Returns whether anything was subscribed."""
    from cityhall.models import User

    channel = payload["c"]
    now = timezone.now()
    changed = False
    subscriptions = list(Subscription.objects.select_for_update().filter(pk=payload.get("s", -1)))
    user = User.objects.select_for_update().filter(pk=payload.get("u", -1)).first()
    if user is not None:
        subscriptions += list(Subscription.objects.select_for_update().filter(user=user))
        field = "notify_by_email" if channel == Channel.EMAIL else "notify_by_sms"
        if getattr(user, field):
            setattr(user, field, False)
            audit_as(user, None).save(update_fields=[field])
            changed = True
    for subscription in subscriptions:
        changed = _stop_channel(subscription, channel, now) or changed
    # Whatever is still queued for them on that channel is not sent.
    queued = Delivery.objects.filter(channel=channel, status=DeliveryStatus.PENDING)
    queued.filter(notification__subscription__in=subscriptions).update(
        status=DeliveryStatus.SKIPPED
    )
    if user is not None:
        queued.filter(notification__user=user).update(status=DeliveryStatus.SKIPPED)
    return changed


def _stop_channel(subscription: Subscription, channel: str, now) -> bool:
    if channel == Channel.EMAIL and subscription.by_email:
        subscription.by_email = False
        subscription.email_unsubscribed_at = now
    elif channel == Channel.SMS and subscription.by_sms:
        subscription.by_sms = False
        subscription.sms_unsubscribed_at = now
    else:
        return False
    audit_as(subscription, None).save()
    return True


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO", "PARAR", "BAJA"}


@transaction.atomic
def sms_stop(*, phone: str) -> int:
    """A text saying STOP (or ALTO) from `phone`: no more texts to that number, from anything."""
    from cityhall.models import User

    now = timezone.now()
    stopped = 0
    for subscription in Subscription.objects.select_for_update().filter(by_sms=True, phone=phone):
        stopped += _stop_channel(subscription, Channel.SMS, now)
    for user in User.objects.select_for_update().filter(phone=phone):
        if user.notify_by_sms:
            user.notify_by_sms = False
            audit_as(user, None).save(update_fields=["notify_by_sms"])
            stopped += 1
        subscription = Subscription.objects.filter(user=user).first()
        if subscription is not None:
            stopped += _stop_channel(subscription, Channel.SMS, now)
    Delivery.objects.filter(
        channel=Channel.SMS, address=phone, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.SKIPPED, last_error="The recipient texted STOP.")
    return stopped


@transaction.atomic
def person_forget(*, user) -> dict[str, int]:
    """ "Delete my account": the alert subscription and every inbox message go (with their
    delivery records, which hold the email address and phone number)."""
    from .models import Notification

    subscriptions, _kinds = Subscription.objects.filter(user=user).delete()
    messages = Notification.objects.filter(user=user).count()
    Notification.objects.filter(user=user).delete()
    return {"subscriptions deleted": min(subscriptions, 1), "messages deleted": messages}
