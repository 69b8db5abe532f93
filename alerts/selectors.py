"""Reads for alerts, subscriptions and the inbox."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .constants import BANNER_SEVERITIES
from .models import Alert, Notification, Subscription, Topic
from .services import BANNER_CACHE_KEY

BANNER_MAX_SECONDS = 300


def banner_alerts() -> list[dict]:
    """Active severe and extreme alerts for the banner on every page, cached until one changes.

    Publishing, cancelling and expiring delete the cache entry; the timeout also ends at the
    next expiry, so an alert never outlives its time in the banner.
    """
    cached = cache.get(BANNER_CACHE_KEY)
    if cached is not None:
        return cached
    now = timezone.now()
    alerts = list(
        Alert.objects.active(now)
        .filter(severity__in=BANNER_SEVERITIES)
        .order_by("-published_at")[:3]
    )
    data = [
        {
            "pk": alert.pk,
            "title_en": alert.title("en"),
            "title_es": alert.title("es"),
            "summary_en": alert.instruction("en") or alert.body("en")[:200],
            "summary_es": alert.instruction("es") or alert.body("es")[:200],
            "severity": alert.severity,
        }
        for alert in alerts
    ]
    seconds = BANNER_MAX_SECONDS
    if alerts:
        seconds = max(
            1, min(seconds, int(min(a.expires for a in alerts).timestamp() - now.timestamp()))
        )
    cache.set(BANNER_CACHE_KEY, data, seconds)
    return data


def alerts_active(*, topic: Topic | None = None) -> QuerySet[Alert]:
    queryset = Alert.objects.active().select_related("topic").order_by("-published_at")
    return queryset.filter(topic=topic) if topic else queryset


def alerts_archive(*, topic: Topic | None = None) -> QuerySet[Alert]:
    active = Alert.objects.active().values("pk")
    queryset = (
        Alert.objects.public()
        .exclude(pk__in=active)
        .select_related("topic")
        .order_by("-published_at")
    )
    return queryset.filter(topic=topic) if topic else queryset


def alert_public(*, pk: int) -> Alert | None:
    return (
        Alert.objects.public()
        .select_related("topic", "references")
        .prefetch_related("neighborhoods", Prefetch("followups", queryset=Alert.objects.public()))
        .filter(pk=pk)
        .first()
    )


def _in_feed(now=None):
    """What the Atom feed lists: public alerts, less those expired more than
    ALERTS_FEED_EXPIRED_HOURS ago (aggregators drop expired alerts; the CAP URL stays)."""
    from django.conf import settings

    now = now or timezone.now()
    gone = now - timedelta(hours=settings.ALERTS_FEED_EXPIRED_HOURS)
    return Alert.objects.public().filter(expires__gte=gone)


def alerts_for_feed(*, limit: int = 50, now=None) -> list[Alert]:
    return list(_in_feed(now).select_related("topic").order_by("-published_at")[:limit])


def feed_version(*, now=None) -> tuple[int, object]:
    """(how many, newest change) of what the feed lists: its ETag and Last-Modified."""
    from django.db.models import Count, Max

    stats = _in_feed(now).aggregate(n=Count("pk"), last=Max("updated_at"))
    return stats["n"], stats["last"]


def subscription_for_user(*, user) -> Subscription | None:
    return (
        Subscription.objects.filter(user=user).prefetch_related("topics", "neighborhoods").first()
        if user.is_authenticated
        else None
    )


def inbox_for(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).only(
        "pk", "subject", "created_at", "read_at", "link", "template", "alert_id"
    )


# --- A resident's own data ("Download my data") ----------------------------------------------------


def personal_data(user) -> tuple[dict, list]:
    """The person's alert subscription and every message in their inbox."""
    from cityhall.personal_data import fields_of

    subscription = (
        Subscription.objects.filter(user=user).prefetch_related("topics", "neighborhoods").first()
    )
    sub = None
    if subscription is not None:
        sub = {
            **fields_of(subscription, leave_out={"user", "sms_code", "sms_code_attempts"}),
            "topics": [topic.slug for topic in subscription.topics.all()],
            "neighborhoods": [str(n) for n in subscription.neighborhoods.all()],
        }
    messages = [
        fields_of(n, leave_out={"user", "subscription", "alert", "body_html"})
        for n in Notification.objects.filter(user=user).order_by("pk")
    ]
    return {"alert_subscription": sub, "messages": messages}, []
