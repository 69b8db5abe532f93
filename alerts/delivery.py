"""The notification hub and its delivery engine: `notify()` records a message and one delivery
per channel, fan-out does the same for an alert's subscribers; each delivery is sent once, and
retried. Everything that enqueues delivery work lives here (tasks are called by name).

Work lives in PostgreSQL first. Fan-out writes one Notification per subscriber and one
Delivery per channel, protected by unique constraints, so running it again adds nothing.
Sending claims a row with SELECT ... FOR UPDATE SKIP LOCKED and a status change in one
transaction, so two workers never send the same row. The sweeper re-enqueues rows whose
message was lost (a killed worker, a broker restart).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import timedelta
from email.utils import make_msgid
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse, translate_url
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import override

from cityhall.links import absolute_url
from cityhall.phones import sms_budget_key, sms_country_allowed
from cityhall.ratelimit import parse as parse_rate
from cityhall.ratelimit import reserve

from .constants import BANNER_SEVERITIES, AlertStatus, Channel, DeliveryStatus
from .models import Alert, Delivery, Notification, Subscription
from .rendering import render_notification
from .sms import SmsError, get_backend
from .tokens import unsubscribe_token

logger = logging.getLogger(__name__)


# --- Fan-out ----------------------------------------------------------------------------------


def alert_fan_out(*, alert_id: int) -> int:
    """Create the messages and deliveries of a published alert. Returns how many were new."""
    alert = Alert.objects.select_related("topic", "references").filter(pk=alert_id).first()
    if alert is None or alert.fan_out_completed_at or alert.status == AlertStatus.DRAFT:
        return 0
    target = alert.references if alert.msg_type == "Cancel" and alert.references_id else alert
    subscriber_ids = list(
        Subscription.objects.for_alert(target).order_by("pk").values_list("pk", flat=True)
    )
    rendered_by_language = {}
    created = 0
    batch = settings.FAN_OUT_BATCH_SIZE
    for start in range(0, len(subscriber_ids), batch):
        chunk = subscriber_ids[start : start + batch]
        created += _fan_out_batch(alert, chunk, rendered_by_language)
    Alert.objects.filter(pk=alert.pk, fan_out_completed_at__isnull=True).update(
        fan_out_completed_at=timezone.now()
    )
    return created


@transaction.atomic
def _fan_out_batch(alert: Alert, subscriber_ids: list[int], rendered_by_language: dict) -> int:
    subscriptions = Subscription.objects.filter(pk__in=subscriber_ids).select_related("user")
    existing = set(
        Notification.objects.filter(alert=alert, subscription_id__in=subscriber_ids).values_list(
            "subscription_id", flat=True
        )
    )
    new_notifications = []
    for subscription in subscriptions:
        if subscription.pk in existing:
            continue
        language = subscription.language
        if language not in rendered_by_language:
            rendered_by_language[language] = render_notification(
                "alert", {"alert": alert}, language=language
            )
        rendered = rendered_by_language[language]
        new_notifications.append(
            Notification(
                user=subscription.user,
                subscription=subscription,
                alert=alert,
                template="alert",
                language=language,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                sms_text=rendered.sms,
                link=alert.get_absolute_url(),
            )
        )
    # ignore_conflicts: a concurrent or repeated fan-out may have written some rows already.
    Notification.objects.bulk_create(new_notifications, ignore_conflicts=True)
    notifications = (
        Notification.objects.filter(alert=alert, subscription_id__in=subscriber_ids)
        .select_related("subscription__user")
        .order_by("pk")
    )
    deliveries = []
    now = timezone.now()
    for notification in notifications:
        subscription = notification.subscription
        for channel in subscription.channels():
            address = (
                subscription.email_address
                if channel == Channel.EMAIL
                else subscription.phone_number
            )
            deliveries.append(Delivery(notification=notification, channel=channel, address=address))
        if subscription.user_id:
            deliveries.append(
                Delivery(
                    notification=notification,
                    channel=Channel.PORTAL,
                    status=DeliveryStatus.SENT,
                    sent_at=now,
                )
            )
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    # In subscription order: a rate-limited channel books its start times in this order.
    pending = (
        Delivery.objects.filter(
            notification__alert=alert,
            notification__subscription_id__in=subscriber_ids,
            status=DeliveryStatus.PENDING,
        )
        .order_by("pk")
        .values_list("pk", "channel")
    )
    enqueue_sends(pending, urgent=alert.severity in BANNER_SEVERITIES)
    return len(new_notifications)


# --- Sending ----------------------------------------------------------------------------------


def _claim(delivery_ids: list[int]) -> list[Delivery]:
    """Take the due, pending rows among `delivery_ids` that no other worker holds: one
    transaction marks them "sending" and counts the attempt."""
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__alert")
            .filter(
                pk__in=delivery_ids,
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("pk")
        )
        if not rows:
            return []
        now = timezone.now()
        Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    for row in rows:
        row.status, row.claimed_at, row.attempts = DeliveryStatus.SENDING, now, row.attempts + 1
    return rows


def delivery_send(*, delivery_id: int) -> str | None:
    """Send one delivery if it is due and nobody else has it. Returns its final status."""
    return deliveries_send(delivery_ids=[delivery_id])[delivery_id]


def deliveries_send(*, delivery_ids: list[int]) -> dict[int, str | None]:
    """Send a batch of deliveries: each is claimed, sent and marked on its own, so a failure or
    a crash loses nothing and sends nothing twice. Emails of a batch share one SMTP connection.
    Returns each id's final status (None for rows not due or taken by another worker)."""
    results: dict[int, str | None] = dict.fromkeys(delivery_ids)
    claimed = _claim(list(delivery_ids))
    if not claimed:
        return results
    connection = None
    try:
        for row in claimed:
            if row.channel == Channel.EMAIL and connection is None:
                connection = mailers.default
            results[row.pk] = _send_claimed(row, connection)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # the messages are sent; a failed QUIT changes nothing
                logger.info("closing the SMTP connection failed", exc_info=True)
    return results


def _send_claimed(delivery: Delivery, connection) -> str:
    try:
        if delivery.channel == Channel.EMAIL:
            provider_id = _send_email(delivery, connection)
        elif delivery.channel == Channel.SMS:
            if not sms_country_allowed(delivery.address):
                raise SmsError(
                    "Texts to this country are not sent (SMS_ALLOWED_COUNTRIES).", retryable=False
                )
            if not _sms_budget_allows(urgent=_is_urgent(delivery.notification)):
                return _defer_to_tomorrow(delivery)
            provider_id = get_backend().send(
                to=delivery.address, body=delivery.notification.sms_text
            )
        else:
            provider_id = ""
    except SmsError as error:
        return _failed(delivery, str(error), retryable=error.retryable)
    except Exception as error:
        logger.warning("delivery %s failed: %s", delivery.pk, error)
        if connection is not None:
            _drop_connection(connection)  # the next email of the batch opens a fresh one
        return _failed(delivery, f"{type(error).__name__}: {error}", retryable=True)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:120],
        last_error="",
        updated_at=timezone.now(),
    )
    return DeliveryStatus.SENT


def _drop_connection(connection) -> None:
    try:
        connection.close()
    except Exception:
        logger.info("closing a broken SMTP connection failed", exc_info=True)
        connection.connection = None


def _is_urgent(notification: Notification) -> bool:
    return bool(notification.alert_id and notification.alert.severity in BANNER_SEVERITIES)


def _sms_budget_allows(*, urgent: bool) -> bool:
    """Count this text against the day's SMS_DAILY_BUDGET. Severe and extreme alerts always go
    (and count); anything else waits for tomorrow once the budget is spent."""
    key = sms_budget_key()
    cache.add(key, 0, timeout=2 * 86400)
    used = cache.incr(key)
    if used <= settings.SMS_DAILY_BUDGET or urgent:
        return True
    cache.decr(key)  # not sent today: it counts tomorrow
    return False


def _defer_to_tomorrow(delivery: Delivery) -> str:
    now = timezone.now()
    tomorrow = timezone.localtime(now).replace(hour=0, minute=5, second=0, microsecond=0)
    tomorrow += timedelta(days=1)
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING,
        attempts=F("attempts") - 1,  # not a failed attempt
        last_error="The daily SMS budget is spent; this text goes tomorrow.",
        next_attempt_at=tomorrow,
        updated_at=now,
    )
    return DeliveryStatus.PENDING


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter: base * 2^(n-1), randomised down to half."""
    base = settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


def _failed(delivery: Delivery, reason: str, *, retryable: bool) -> str:
    final = not retryable or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS
    status = DeliveryStatus.FAILED if final else DeliveryStatus.PENDING
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        last_error=reason[:2000],
        next_attempt_at=now + retry_delay(delivery.attempts),
        updated_at=now,
    )
    return status


def _unsubscribe_url(delivery: Delivery) -> str:
    notification = delivery.notification
    if notification.subscription_id:
        token = unsubscribe_token(
            channel=Channel.EMAIL, subscription_id=notification.subscription_id
        )
    elif notification.user_id:
        token = unsubscribe_token(channel=Channel.EMAIL, user_id=notification.user_id)
    else:
        return ""
    with override(notification.language):
        path = reverse("alerts:unsubscribe", args=[token])
    return absolute_url(path)


_URL_SLOT = "https://unsubscribe.invalid/slot"


@lru_cache(maxsize=8)
def _footer(language: str) -> tuple[str, str]:
    """The unsubscribe footer of a language, rendered once per worker process with a slot
    where each message's own link goes (50,000 emails, one template render)."""
    footer = render_notification("unsubscribe_footer", {"url": _URL_SLOT}, language=language)
    return footer.text, footer.html


def _send_email(delivery: Delivery, connection=None) -> str:
    notification = delivery.notification
    unsubscribe_url = _unsubscribe_url(delivery)
    headers = {"X-CityHall-Delivery": str(delivery.pk)}
    text, html = notification.body_text, notification.body_html
    if unsubscribe_url:
        # RFC 8058 one-click unsubscribe: mail clients POST to the URL; no sign-in needed.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        footer_text, footer_html = _footer(notification.language)
        footer_text = footer_text.replace(_URL_SLOT, unsubscribe_url)
        footer_html = footer_html.replace(_URL_SLOT, escape(unsubscribe_url))
        text = f"{text}\n{footer_text}"
        html = (
            html.replace("</body>", f"{footer_html}</body>")
            if "</body>" in html
            else html + footer_html
        )
    headers["Message-ID"] = make_msgid(idstring=f"delivery-{delivery.pk}", domain=_mail_domain())
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        headers=headers,
    )
    if html:
        message.attach_alternative(html, "text/html")
    connection = connection or mailers.default
    connection.open()  # kept open for the rest of the batch
    connection.send_messages([message])
    return headers["Message-ID"]


def _mail_domain() -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "localhost"


# --- Sweeping and retrying --------------------------------------------------------------------


def deliveries_sweep(*, now=None) -> dict[str, int]:
    """Re-enqueue deliveries that are due but have no live message, and finish lost fan-outs.

    Rows claimed by a worker that died mid-send ("sending" past the task time limit) go back to
    pending: the provider may or may not have taken them, and a rare duplicate is better than a
    missed emergency alert.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.DELIVERY_SWEEP_AFTER_SECONDS)
    lost_claims = list(
        Delivery.objects.filter(
            status=DeliveryStatus.SENDING,
            claimed_at__lt=now - timedelta(seconds=settings.DELIVERY_RECLAIM_AFTER_SECONDS),
        ).values_list("pk", "channel", "notification__alert__severity")
    )
    Delivery.objects.filter(
        pk__in=[pk for pk, _c, _s in lost_claims], status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.PENDING, updated_at=now)
    _enqueue_by_urgency(lost_claims)
    # Due rows that are either waiting for a retry (only the sweeper sends those) or were
    # queued long ago and evidently lost their message.
    # A retry is due once next_attempt_at passes (updated_at marks when it was last queued).
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .exclude(pk__in=[pk for pk, _c, _s in lost_claims])
        .filter(Q(attempts__gt=0, updated_at__lte=F("next_attempt_at")) | Q(updated_at__lte=stale))
        .values_list("pk", "channel", "notification__alert__severity")[:5000]
    )
    Delivery.objects.filter(pk__in=[pk for pk, _c, _s in due]).update(updated_at=now)
    _enqueue_by_urgency(due)
    unfinished = list(
        Alert.objects.filter(
            status__in=[AlertStatus.PUBLISHED, AlertStatus.CANCELLED],
            published_at__lte=stale,
            fan_out_completed_at__isnull=True,
        ).values_list("pk", "severity")
    )
    for alert_id, severity in unfinished:
        enqueue_fan_out(alert_id, on_commit=False, urgent=severity in BANNER_SEVERITIES)
    return {"reclaimed": len(lost_claims), "requeued": len(due), "fan_outs": len(unfinished)}


def _enqueue_by_urgency(rows: list[tuple[int, str, str | None]]) -> None:
    for urgent in (True, False):
        enqueue_sends(
            [
                (pk, channel)
                for pk, channel, severity in rows
                if (severity in BANNER_SEVERITIES) == urgent
            ],
            on_commit=False,
            urgent=urgent,
        )


@transaction.atomic
def deliveries_retry_failed(*, alert: Alert) -> int:
    """The console's "retry failed": failed deliveries of this alert get another round."""
    failed = Delivery.objects.select_for_update().filter(
        notification__alert=alert, status=DeliveryStatus.FAILED
    )
    rows = list(failed.values_list("pk", "channel"))
    Delivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )
    enqueue_sends(rows, urgent=alert.severity in BANNER_SEVERITIES)
    return len(rows)


def delivery_progress(*, alert: Alert) -> dict[str, dict[str, int]]:
    """Counts by channel and state, for the console's progress panel."""
    progress: dict[str, dict[str, int]] = {}
    rows = (
        Delivery.objects.filter(notification__alert=alert)
        .values("channel", "status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for row in rows:
        progress.setdefault(row["channel"], {})[row["status"]] = row["count"]
    return progress


# --- The notification hub ---------------------------------------------------------------------


def _deliveries_for(notification: Notification, addresses: dict[str, str]) -> list[Delivery]:
    rows = []
    for channel, address in addresses.items():
        status = DeliveryStatus.SENT if channel == Channel.PORTAL else DeliveryStatus.PENDING
        rows.append(
            Delivery(
                notification=notification,
                channel=channel,
                address=address,
                status=status,
                sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
            )
        )
    Delivery.objects.bulk_create(rows)
    enqueue_sends((row.pk, row.channel) for row in rows if row.status == DeliveryStatus.PENDING)
    return rows


@transaction.atomic
def notify(
    *, user, template: str, context: dict, link: str = "", channels: list[str] | None = None
) -> Notification:
    """Tell a resident something, in their language, on the channels they chose.

    The message always appears in their "My City Hall" inbox; email and text follow their
    preferences (and `channels`, when a notice should use fewer).
    """
    language = user.preferred_language
    if link:
        link = translate_url(link, language)  # the page in the recipient's language
    rendered = render_notification(
        template, {"user": user, "link": link, **context}, language=language
    )
    notification = Notification.objects.create(
        user=user,
        template=template,
        language=language,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        sms_text=rendered.sms,
        link=link,
    )
    wanted = set(channels) if channels is not None else {Channel.EMAIL, Channel.SMS}
    addresses = {Channel.PORTAL: ""}
    if Channel.EMAIL in wanted and user.notify_by_email and user.email:
        addresses[Channel.EMAIL] = user.email
    if Channel.SMS in wanted and user.notify_by_sms and user.can_be_texted:
        addresses[Channel.SMS] = user.phone
    _deliveries_for(notification, addresses)
    return notification


@transaction.atomic
def notify_address(
    *,
    language: str,
    template: str,
    context: dict,
    email: str = "",
    phone: str = "",
    subscription=None,
) -> Notification:
    """Send to an address that has no account (e.g. confirming a subscription)."""
    rendered = render_notification(template, context, language=language)
    notification = Notification.objects.create(
        subscription=subscription,
        template=template,
        language=language,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        sms_text=rendered.sms,
    )
    addresses = {}
    if email:
        addresses[Channel.EMAIL] = email
    if phone:
        addresses[Channel.SMS] = phone
    _deliveries_for(notification, addresses)
    return notification


# --- Queueing ---------------------------------------------------------------------------------
# Tasks are named, not imported: tasks.py imports this module, never the reverse.

SEND_TASK = "alerts.tasks.send_deliveries"
FAN_OUT_TASK = "alerts.tasks.fan_out_alert"


URGENT_QUEUE = "urgent"  # severe and extreme alerts: a worker of their own, never behind junk


def _enqueue(
    task_name: str, *args, on_commit: bool = True, urgent: bool = False, countdown: float = 0
) -> None:
    from cityhall.celery import app

    signature = app.signature(task_name, args=args)
    if urgent:
        signature = signature.set(queue=URGENT_QUEUE)
    if countdown > 0:
        signature = signature.set(countdown=round(countdown, 3))
    if on_commit:
        transaction.on_commit(signature.delay, robust=True)
    else:
        signature.delay()


def _rate(channel: str) -> str:
    return {Channel.EMAIL: settings.ALERTS_EMAIL_RATE, Channel.SMS: settings.ALERTS_SMS_RATE}.get(
        channel, ""
    )


def enqueue_sends(
    rows: Iterable[tuple[int, str]], *, on_commit: bool = True, urgent: bool = False
) -> None:
    """Queue deliveries (id, channel) in tasks of SEND_BATCH_SIZE, one channel per task (emails
    of a task share an SMTP connection); severe and extreme alerts on the urgent queue.

    Where the provider has a limit (ALERTS_SMS_RATE, ALERTS_EMAIL_RATE) each task carries at
    most one second's worth and is booked a start time within the limit (`reserve`): texts
    wait in the queue, never in a worker, so they cannot hold up email."""
    by_channel: dict[str, list[int]] = {}
    for delivery_id, channel in rows:
        by_channel.setdefault(channel, []).append(delivery_id)
    for channel, ids in by_channel.items():
        rate = _rate(channel)
        size = settings.SEND_BATCH_SIZE
        if rate:
            per, window = parse_rate(rate)
            size = max(1, min(size, per // window or 1))
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            countdown = reserve(f"send:{channel}", rate, len(batch)) if rate else 0
            if countdown > BOOKED_AHEAD_SECONDS:
                _booked(batch, countdown)
            _enqueue(SEND_TASK, batch, on_commit=on_commit, urgent=urgent, countdown=countdown)


# A delivery booked further ahead than this carries its start time, so the sweeper does not
# take a text waiting its turn in the queue for a lost one (and book it again, later).
BOOKED_AHEAD_SECONDS = 60


def _booked(delivery_ids: list[int], countdown: float) -> None:
    # A second early: the task, arriving on time, finds its rows due.
    starts = timezone.now() + timedelta(seconds=countdown - 1)
    Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.PENDING).update(
        next_attempt_at=starts
    )


def enqueue_send(
    delivery_id: int, channel: str, *, on_commit: bool = True, urgent: bool = False
) -> None:
    enqueue_sends([(delivery_id, channel)], on_commit=on_commit, urgent=urgent)


def enqueue_fan_out(alert_id: int, *, on_commit: bool = True, urgent: bool = False) -> None:
    _enqueue(FAN_OUT_TASK, alert_id, on_commit=on_commit, urgent=urgent)
