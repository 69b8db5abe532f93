from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cityhall.constants import Language
from cityhall.workflow import StatusGuard

from .constants import (
    AlertStatus,
    Category,
    Certainty,
    Channel,
    DeliveryStatus,
    MessageType,
    ResponseType,
    Severity,
    Urgency,
)


def _spanish(language: str | None) -> bool:
    return (language or get_language() or "en").startswith("es")


class Topic(models.Model):
    slug = models.SlugField(_("code"), unique=True)
    name_en = models.CharField(_("name (English)"), max_length=80)
    name_es = models.CharField(_("name (Spanish)"), max_length=80)
    description_en = models.CharField(_("description (English)"), max_length=200, blank=True)
    description_es = models.CharField(_("description (Spanish)"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    is_active = models.BooleanField(_("offered to subscribers"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name_en"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name_en

    def name(self, language: str | None = None) -> str:
        return self.name_es if _spanish(language) else self.name_en

    def description(self, language: str | None = None) -> str:
        return self.description_es if _spanish(language) else self.description_en


def _new_identifier() -> str:
    return f"riverbend-{uuid.uuid4()}"


class AlertQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(
            status=AlertStatus.PUBLISHED,
            msg_type__in=[MessageType.ALERT, MessageType.UPDATE],
            superseded_at__isnull=True,
            effective__lte=now,
            expires__gt=now,
        )

    def public(self):
        return self.filter(
            status__in=[AlertStatus.PUBLISHED, AlertStatus.CANCELLED, AlertStatus.EXPIRED]
        ).exclude(published_at__isnull=True)


class Alert(StatusGuard, models.Model):
    """An alert from the city, in English and Spanish, with the fields CAP 1.2 needs."""

    identifier = models.CharField(
        _("CAP identifier"), max_length=100, unique=True, default=_new_identifier, editable=False
    )
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="alerts"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AlertStatus.choices,
        default=AlertStatus.DRAFT,
        editable=False,
    )
    msg_type = models.CharField(
        _("message type"),
        max_length=8,
        choices=MessageType.choices,
        default=MessageType.ALERT,
        editable=False,
    )
    references = models.ForeignKey(
        "self",
        verbose_name=_("updates or cancels"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
        editable=False,
    )

    title_en = models.CharField(_("headline (English)"), max_length=160)
    title_es = models.CharField(_("headline (Spanish)"), max_length=160, blank=True)
    body_en = models.TextField(_("description (English)"))
    body_es = models.TextField(_("description (Spanish)"), blank=True)
    instruction_en = models.TextField(_("what to do (English)"), blank=True)
    instruction_es = models.TextField(_("what to do (Spanish)"), blank=True)
    english_only = models.BooleanField(
        _("English only"),
        default=False,
        help_text=_(
            "Publish without Spanish. Only for emergencies where translating would delay a warning."
        ),
    )

    category = models.CharField(
        _("category"), max_length=12, choices=Category.choices, default=Category.SAFETY
    )
    event = models.CharField(
        _("event"), max_length=100, help_text=_("For example: Boil water advisory.")
    )
    event_es = models.CharField(
        _("event (Spanish)"),
        max_length=100,
        blank=True,
        help_text=_("For example: Aviso de hervir el agua."),
    )
    same_event = models.CharField(
        "SAME event code",
        max_length=3,
        blank=True,
        help_text="For the IPAWS profile of CAP (e.g. CEM civil emergency, LAE local area "
        "emergency, EVI evacuation, SPW shelter in place); ADR (administrative) when empty.",
    )
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.EXPECTED
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MODERATE
    )
    certainty = models.CharField(
        _("certainty"), max_length=10, choices=Certainty.choices, default=Certainty.LIKELY
    )
    response_type = models.CharField(
        _("response"), max_length=10, choices=ResponseType.choices, default=ResponseType.MONITOR
    )
    effective = models.DateTimeField(_("effective from"), default=timezone.now)
    onset = models.DateTimeField(_("onset"), null=True, blank=True)
    expires = models.DateTimeField(_("expires"))

    citywide = models.BooleanField(_("whole city"), default=True)
    neighborhoods = models.ManyToManyField(
        "cityhall.Neighborhood", verbose_name=_("neighborhoods"), blank=True, related_name="alerts"
    )

    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True, editable=False)
    fan_out_completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AlertQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[neighborhoods])

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        permissions = [("publish_alert", "Can publish, schedule and cancel alerts")]
        indexes = [models.Index(fields=["status", "expires"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires__gt=models.F("effective")), name="alert_expires_after_effective"
            ),
        ]

    def __str__(self) -> str:
        return self.title_en

    def get_absolute_url(self) -> str:
        return reverse("alerts:detail", args=[self.pk])

    def area_words(self) -> str:
        """Where the alert applies, in plain words of the active language: "the whole city" or
        "Eastgate and Las Palmas"."""
        from django.utils.translation import gettext

        from cityhall.text import words_and

        if self.citywide:
            return gettext("the whole city")
        return words_and(sorted(n.name for n in self.neighborhoods.all()))

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.expires and self.effective and self.expires <= self.effective:
            raise ValidationError({"expires": _("The alert must expire after it takes effect.")})
        if self.onset and self.expires and self.onset >= self.expires:
            raise ValidationError({"onset": _("The onset must come before the alert expires.")})

    def title(self, language: str | None = None) -> str:
        return self.title_es if _spanish(language) and self.title_es else self.title_en

    def body(self, language: str | None = None) -> str:
        return self.body_es if _spanish(language) and self.body_es else self.body_en

    def event_name(self, language: str | None = None) -> str:
        return self.event_es if _spanish(language) and self.event_es else self.event

    def instruction(self, language: str | None = None) -> str:
        return (
            self.instruction_es
            if _spanish(language) and self.instruction_es
            else self.instruction_en
        )

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return (
            self.status == AlertStatus.PUBLISHED
            and self.superseded_at is None
            and self.msg_type != MessageType.CANCEL
            and self.effective <= now < self.expires
        )

    @property
    def has_spanish(self) -> bool:
        return bool(self.title_es.strip() and self.body_es.strip())


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)

    def for_alert(self, alert: Alert):
        """Confirmed subscribers to the alert's topic whose area overlaps the alert's."""
        matching = (
            self.confirmed().filter(topics=alert.topic).filter(Q(by_email=True) | Q(by_sms=True))
        )
        if not alert.citywide:
            matching = matching.filter(
                Q(citywide=True) | Q(neighborhoods__in=alert.neighborhoods.all())
            )
        return matching.distinct()


class Subscription(models.Model):
    """Who gets which alerts, how and in which language.

    A resident with an account has one subscription tied to the account (its email and phone
    come from the profile); anyone else subscribes with an email address or a mobile number
    and confirms it before anything is sent.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_subscription",
    )
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    by_email = models.BooleanField(_("by email"), default=False)
    by_sms = models.BooleanField(_("by text message"), default=False)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), related_name="subscriptions")
    citywide = models.BooleanField(_("anywhere in the city"), default=True)
    neighborhoods = models.ManyToManyField(
        "cityhall.Neighborhood",
        verbose_name=_("neighborhoods"),
        blank=True,
        related_name="subscriptions",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    sms_code = models.CharField(max_length=6, blank=True, editable=False)
    sms_code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    email_unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sms_unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SubscriptionQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[topics, neighborhoods])

    class Meta:
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        indexes = [models.Index(fields=["email"]), models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return self.email_address or self.phone_number or f"subscription {self.pk}"

    @property
    def email_address(self) -> str:
        return self.user.email if self.user_id else self.email

    @property
    def phone_number(self) -> str:
        return self.user.phone if self.user_id else self.phone

    def channels(self) -> list[str]:
        channels = []
        if self.by_email and self.email_address:
            channels.append(Channel.EMAIL)
        if self.by_sms and self.phone_number:
            channels.append(Channel.SMS)
        return channels


class Notification(models.Model):
    """One message to one person, in their language; the `/me/` inbox lists these."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    template = models.CharField(max_length=60)
    language = models.CharField(max_length=5, choices=Language.choices)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    sms_text = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            # One message per subscriber per alert, however often the fan-out runs.
            models.UniqueConstraint(
                fields=["alert", "subscription"],
                condition=Q(alert__isnull=False, subscription__isnull=False),
                name="one_message_per_alert_and_subscriber",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """Sending one message over one channel. The row exists before any task runs."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="one_delivery_per_message_and_channel"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.address or '-'}: {self.get_status_display()}"
