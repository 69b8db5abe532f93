"""Subscriptions, messages and deliveries under the retention schedule (cityhall.records)."""

from __future__ import annotations

from django.db.models import Q
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _

from cityhall.records import registry
from cityhall.records.builtin import personal_history_fields

from .constants import DeliveryStatus
from .models import Delivery, Notification, Subscription

UNFINISHED = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]


class Subscriptions(registry.RecordType):
    key = "alerts.subscription"
    label = _("Alert subscriptions")
    model = Subscription
    counted_from = _("after it was made (unconfirmed) or cancelled")

    def statuses(self):
        return [
            registry.Group("unconfirmed", _("Never confirmed")),
            registry.Group("cancelled", _("Cancelled (no email, no texts)")),
        ]

    def expired(self, *, status, kinds, before, action):
        unconfirmed = Q(confirmed_at__isnull=True, user__isnull=True, created_at__lt=before)
        cancelled = Q(by_email=False, by_sms=False, confirmed_at__isnull=False, ended__lt=before)
        rows = Subscription.objects.annotate(
            ended=Greatest("created_at", "email_unsubscribed_at", "sms_unsubscribed_at")
        )
        if status == "unconfirmed":
            return rows.filter(unconfirmed)
        if status == "cancelled":
            return rows.filter(cancelled)
        return rows.filter(unconfirmed | cancelled)

    def held(self, holds):
        return Q(user_id__in=holds.user_ids) | registry.email_q("email", holds.emails)

    def of_person(self, user):
        return Q(user=user)

    def dispose(self, rows, action):
        pks = list(rows.values_list("pk", flat=True))
        Subscription.objects.filter(pk__in=pks).delete()
        # Its history rows hold the same address: they go with it.
        Subscription.history.filter(id__in=pks).delete()
        return {"deleted": len(pks)}


class Messages(registry.RecordType):
    key = "alerts.notification"
    label = _("Messages in residents' inboxes (with their deliveries)")
    model = Notification
    counted_from = _("after it was sent")
    feeds_kpis = True  # deliveries go with them

    def expired(self, *, status, kinds, before, action):
        return Notification.objects.filter(created_at__lt=before).exclude(
            deliveries__status__in=UNFINISHED
        )

    def held(self, holds):
        return Q(user_id__in=holds.user_ids) | registry.email_q("subscription__email", holds.emails)

    def dispose(self, rows, action):
        count = rows.count()
        rows.delete()
        return {"deleted": count}


class Deliveries(registry.RecordType):
    key = "alerts.delivery"
    label = _("Email and text deliveries (the address each message went to)")
    model = Delivery
    actions = (registry.DELETE, registry.ANONYMISE)
    counted_from = _("after the last attempt")
    feeds_kpis = True

    def expired(self, *, status, kinds, before, action):
        rows = Delivery.objects.exclude(status__in=UNFINISHED).filter(updated_at__lt=before)
        if action == registry.ANONYMISE:
            rows = rows.exclude(address="", last_error="")
        return rows

    def held(self, holds):
        return Q(notification__user_id__in=holds.user_ids) | registry.email_q(
            "address", holds.emails
        )

    def dispose(self, rows, action):
        if action == registry.DELETE:
            count = rows.count()
            rows.delete()
            return {"deleted": count}
        # The delivery stays (sent or failed, when: the statistics); the address goes.
        return {"anonymised": rows.update(address="", last_error="")}


def register() -> None:
    registry.register(Subscriptions())
    registry.register(Messages())
    registry.register(Deliveries())
    personal_history_fields("alerts.subscription", email="", phone="")
