"""`make bench-scale`: publish one citywide emergency alert and time its email to every subscriber.

Needs a running Celery worker (it does the fan-out and the sending) whose SMTP_URL points at
`scripts/smtp_sink.py`, and the sink's log (`--sink-log`: one line per message received,
"<unix time>\\t<X-CityHall-Delivery>"). Publishes through `alerts.services.alert_publish` as the
city administrator, then polls the alert's delivery rows by status until every email delivery
is sent or failed, or `--timeout` passes, and prints one JSON object: fan-out time, time until
the last email was sent, deliveries per second overall and after the fan-out, and what the sink
received (duplicates: the same delivery twice; missing: email subscribers the sink never saw).

Deliveries and messages of earlier bench alerts are deleted first, and the new alert is expired
at the end, so repeated runs on the cached dataset neither grow it nor leave a banner up.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from alerts.constants import (
    AlertStatus,
    Category,
    Certainty,
    Channel,
    DeliveryStatus,
    ResponseType,
    Severity,
    Urgency,
)
from alerts.models import Alert, Delivery, Notification, Subscription, Topic
from alerts.services import alert_expire, alert_publish
from cityhall.models import User, audit_as

PREFIX = "bench-scale-"


class SinkLog:
    """Reads the sink's log as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.partial = ""
        self.messages: list[tuple[float, str]] = []

    def read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open() as handle:
            handle.seek(self.offset)
            chunk = handle.read()
            self.offset = handle.tell()
        lines = (self.partial + chunk).split("\n")
        self.partial = lines.pop()
        for line in lines:
            stamp, _tab, delivery = line.partition("\t")
            if stamp:
                self.messages.append((float(stamp), delivery.strip()))


class Command(BaseCommand):
    help = "Publish a citywide emergency alert and time its email fan-out (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--sink-log", required=True, type=Path)
        parser.add_argument("--timeout", type=float, default=900.0, help="Seconds (default 900).")
        parser.add_argument("--poll", type=float, default=0.5)
        parser.add_argument("--admin", default="admin@riverbend.example")
        parser.add_argument("--topic", default="emergency")

    def progress(self, message: str) -> None:
        print(f"[bench_scale_alert] {message}", file=sys.stderr, flush=True)

    def handle(self, *args, sink_log, timeout, poll, admin, topic, **options):
        actor = User.objects.filter(email=admin, is_active=True, is_staff=True).first()
        if actor is None:
            raise CommandError(f"No active staff account {admin}.")
        chosen = Topic.objects.filter(slug=topic).first()
        if chosen is None:
            raise CommandError(f"No alert topic {topic!r}.")
        self.cleanup()

        now = timezone.now()
        alert = Alert(
            identifier=f"{PREFIX}{int(time.time())}",
            topic=chosen,
            title_en="Bench test: shelter in place (citywide)",
            title_es="Prueba de rendimiento: refúgiese en su lugar (toda la ciudad)",
            body_en="This is a load test of the alert system on a test installation.",
            body_es="Esta es una prueba de carga del sistema de alertas en una instalación de prueba.",
            instruction_en="No action is needed.",
            instruction_es="No necesita hacer nada.",
            category=Category.SAFETY,
            event="Civil emergency (test)",
            event_es="Emergencia civil (prueba)",
            same_event="CEM",
            urgency=Urgency.IMMEDIATE,
            severity=Severity.EXTREME,
            certainty=Certainty.OBSERVED,
            response_type=ResponseType.SHELTER,
            effective=now,
            expires=now + timedelta(hours=2),
            citywide=True,
            created_by=actor,
        )
        audit_as(alert, actor).save()
        email_subscribers = (
            Subscription.objects.for_alert(alert)
            .filter(by_email=True)
            .filter(
                Q(user__isnull=True, email__gt="")
                | Q(user__isnull=False, user__email__gt="", user__is_active=True)
            )
            .count()
        )
        sink = SinkLog(sink_log)
        self.progress(f"publishing alert {alert.pk} to {email_subscribers} email subscribers")

        t0 = time.time()
        alert_publish(alert=alert, actor=actor)
        publish_s = time.time() - t0
        email = Delivery.objects.filter(notification__alert=alert, channel=Channel.EMAIL)
        finished = False
        fan_out_done_at = None
        counts: dict[str, int] = {}
        last_report = 0.0
        while True:
            elapsed = time.time() - t0
            alert.refresh_from_db(fields=["fan_out_completed_at"])
            if alert.fan_out_completed_at and fan_out_done_at is None:
                fan_out_done_at = alert.fan_out_completed_at.timestamp()
            counts = {
                row["status"]: row["n"]
                for row in email.values("status").annotate(n=Count("pk")).order_by()
            }
            sink.read()
            busy = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
            if fan_out_done_at is not None and busy == 0:
                finished = True
                break
            if elapsed - last_report >= 10:
                last_report = elapsed
                self.progress(
                    f"{elapsed:6.0f} s: fan-out {'done' if fan_out_done_at else 'running'}, "
                    f"email {dict(sorted(counts.items()))}, sink {len(sink.messages)}"
                )
            if elapsed > timeout:
                break
            time.sleep(poll)
        stopped_at = time.time()
        time.sleep(1.0)  # the last messages' log lines
        sink.read()

        stats = email.aggregate(
            first=Min("sent_at", filter=Q(status=DeliveryStatus.SENT)),
            last=Max("sent_at", filter=Q(status=DeliveryStatus.SENT)),
            total=Count("pk"),
        )
        sent = counts.get(DeliveryStatus.SENT, 0)
        last_sent = stats["last"].timestamp() if stats["last"] else None
        after_fan_out = None
        if fan_out_done_at is not None and last_sent is not None and last_sent > fan_out_done_at:
            late = email.filter(
                status=DeliveryStatus.SENT, sent_at__gt=alert.fan_out_completed_at
            ).count()
            after_fan_out = late / (last_sent - fan_out_done_at)
        ours = {str(pk) for pk in email.values_list("pk", flat=True)}
        received = [delivery for _stamp, delivery in sink.messages if delivery in ours]
        unique = set(received)
        sink_times = [stamp for stamp, delivery in sink.messages if delivery in ours]
        sms = {
            row["status"]: row["n"]
            for row in Delivery.objects.filter(notification__alert=alert, channel=Channel.SMS)
            .values("status")
            .annotate(n=Count("pk"))
            .order_by()
        }
        errors = list(
            email.exclude(last_error="").values_list("last_error", flat=True).distinct()[:3]
        )
        result = {
            "alert_id": alert.pk,
            "settings": {
                name: getattr(settings, name)
                for name in (
                    "ALERTS_EMAIL_RATE",
                    "ALERTS_SMS_RATE",
                    "FAN_OUT_BATCH_SIZE",
                    "SEND_BATCH_SIZE",
                    "CELERY_WORKER_PREFETCH_MULTIPLIER",
                )
                if hasattr(settings, name)
            },
            "finished": finished,
            "timeout_s": timeout,
            "waited_s": round(stopped_at - t0, 1),
            "email_subscribers": email_subscribers,
            "email_deliveries": stats["total"],
            "email_by_status": counts,
            "sms_by_status": sms,
            "publish_s": round(publish_s, 3),
            "fan_out_s": round(fan_out_done_at - t0, 2) if fan_out_done_at else None,
            "first_sent_s": round(stats["first"].timestamp() - t0, 2) if stats["first"] else None,
            "all_sent_s": round(last_sent - t0, 2) if (finished and last_sent) else None,
            "last_sent_s": round(last_sent - t0, 2) if last_sent else None,
            "per_second_overall": round(sent / (last_sent - t0), 1) if last_sent else None,
            "per_second_after_fan_out": round(after_fan_out, 1) if after_fan_out else None,
            "sink_received": len(received),
            "sink_unique": len(unique),
            "duplicates": len(received) - len(unique),
            "missing": email_subscribers - len(unique),
            "sent_not_received": max(0, sent - len(unique)),
            "sink_other_messages": len(sink.messages) - len(received),
            "sink_last_s": round(max(sink_times) - t0, 2) if sink_times else None,
            "errors": errors,
        }
        try:
            alert_expire(alert=Alert.objects.get(pk=alert.pk))  # no banner left behind
        except Exception as error:  # reported, not fatal
            result["expire_error"] = f"{type(error).__name__}: {error}"
        self.stdout.write(json.dumps(result))

    def cleanup(self) -> None:
        earlier = Alert.objects.filter(identifier__startswith=PREFIX)
        deleted = Delivery.objects.filter(notification__alert__in=earlier).delete()[0]
        deleted += Notification.objects.filter(alert__in=earlier).delete()[0]
        for alert in earlier.filter(status=AlertStatus.PUBLISHED):
            alert_expire(alert=alert)
        if deleted:
            self.progress(f"deleted {deleted} messages and deliveries of earlier bench alerts")
