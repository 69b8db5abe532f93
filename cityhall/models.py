from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .constants import EventKind, Language
from .geo import GeoJSONError, bbox_of, polygon_contains, validate_boundary
from .timeline import word

SYSTEM_USERNAME = "system"


class Bilingual:
    """A model with `<field>_en` and `<field>_es`: `obj.t("name")` picks by the active language,
    falling back to English where the Spanish is empty."""

    def t(self, field: str, language: str | None = None) -> str:
        spanish = getattr(self, f"{field}_es", "")
        wants_spanish = (language or get_language() or "en").startswith("es")
        return spanish if wants_spanish and spanish else getattr(self, f"{field}_en")


class CityUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("username", email)
        return super().create_user(email=email, password=password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("username", email)
        return super().create_superuser(email=email, password=password, **extra_fields)


class User(AbstractUser):
    """Residents and staff alike; staff are users with `is_staff` and a role group.

    People sign in with their email address. `username` is kept (Django's admin and
    django-axes expect it) and mirrors the email.
    """

    email = models.EmailField(_("email address"), unique=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    home_address = models.CharField(_("home address"), max_length=200, blank=True)
    neighborhood = models.ForeignKey(
        "cityhall.Neighborhood",
        verbose_name=_("neighborhood"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.ENGLISH
    )
    notify_by_email = models.BooleanField(_("email me"), default=True)
    notify_by_sms = models.BooleanField(_("text me"), default=False)
    # Double opt-in: nothing is texted to `phone` until its owner types the code we sent there.
    phone_confirmed_at = models.DateTimeField(_("phone confirmed"), null=True, blank=True)
    phone_code = models.CharField(max_length=6, blank=True, editable=False)
    phone_code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = CityUserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login", "phone_code"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [
            # Staff by name (the console's person filters and pickers), without reading the
            # city's tens of thousands of resident accounts.
            models.Index(
                fields=["first_name", "last_name", "id"],
                name="user_staff_by_name",
                condition=models.Q(is_staff=True),
            ),
        ]

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower() or self.email
        if not self.username:
            self.username = self.email
        super().save(*args, **kwargs)

    @property
    def can_be_texted(self) -> bool:
        return bool(self.phone and self.phone_confirmed_at)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


def system_user() -> User:
    """The account that background tasks act as, so the audit trail names who acted."""
    user, _created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "email": "system@cityhall.invalid",
            "first_name": "City Hall",
            "last_name": "(automatic)",
            "is_active": False,
        },
    )
    return user


ANONYMISED_USERNAME = "anonymised"


def anonymised_person() -> User:
    """Who a record kept without its person points at (an applicant disposed of under the
    retention schedule): an inactive account with no personal data, one for all."""
    user, _created = User.objects.get_or_create(
        username=ANONYMISED_USERNAME,
        defaults={
            "email": "anonymised@cityhall.invalid",
            "first_name": "(removed under the retention schedule)",
            "is_active": False,
        },
    )
    return user


class NeighborhoodQuerySet(models.QuerySet):
    def containing(self, *, latitude: float, longitude: float) -> Neighborhood | None:
        """The neighborhood whose boundary contains the point, or None.

        A bounding-box filter in SQL narrows the candidates; the exact test runs in Python
        on the GeoJSON ring, so no PostGIS is needed for a city's few dozen polygons.
        """
        candidates = self.filter(
            min_lat__lte=latitude,
            max_lat__gte=latitude,
            min_lon__lte=longitude,
            max_lon__gte=longitude,
        )
        for neighborhood in candidates:
            if polygon_contains(neighborhood.boundary, longitude=longitude, latitude=latitude):
                return neighborhood
        return None


class Neighborhood(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    boundary = models.JSONField(_("boundary"), help_text=_("A GeoJSON Polygon or MultiPolygon."))
    households = models.PositiveIntegerField(_("households"), default=0)
    min_lat = models.FloatField(editable=False, default=0)
    max_lat = models.FloatField(editable=False, default=0)
    min_lon = models.FloatField(editable=False, default=0)
    max_lon = models.FloatField(editable=False, default=0)

    objects = NeighborhoodQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("neighborhood")
        verbose_name_plural = _("neighborhoods")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = bbox_of(self.boundary)
        super().save(*args, **kwargs)

    def clean(self):
        try:
            validate_boundary(self.boundary)
        except GeoJSONError as error:
            raise ValidationError({"boundary": str(error)}) from error


def audit_as(instance: models.Model, user: User | None) -> models.Model:
    """Name the actor simple-history records for the next save of `instance`."""
    instance._history_user = user or system_user()
    return instance


class Holiday(models.Model):
    """City holidays: not business days for review and response deadlines."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class TimelineEvent(models.Model):
    """The one shape of every timeline (a permit's, a service request's, a code case's).

    Subclasses add the foreign key to their record and re-declare `status` with their own
    choices. Public events are shown to the resident the record belongs to.
    """

    kind = models.CharField(max_length=20, choices=EventKind.choices, default=EventKind.STATUS)
    status = models.CharField(max_length=20, blank=True)
    public = models.BooleanField(default=True)
    text = models.TextField(blank=True)
    # Set when the system worded the event (see cityhall.timeline): read in the reader's
    # language; `text` then holds the English wording, then any note a person added.
    phrase = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        "cityhall.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"

    @property
    def words(self) -> str:
        """The event's text in the active language (a system phrase is worded now; what a
        person wrote is shown as written)."""
        if not self.phrase:
            if self.params.get("es") and (get_language() or "en").startswith("es"):
                return self.params["es"]
            return self.text
        worded = word(self.phrase, self.params)
        return f"{worded} {self.note}".strip() if self.note else worded

    @property
    def label(self) -> str:
        """What a person reads: the new status for a status change, else the kind of event."""
        if self.kind == EventKind.STATUS and self.status:
            return str(self.get_status_display())
        return str(self.get_kind_display())


class NumberSequence(models.Model):
    """The last number handed out in a named sequence (`permit:BLD:2026`, `case:2026`)."""

    key = models.CharField(max_length=60, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"


class StaffAccess(models.Model):
    """A staff member opened a resident's personal data in the console (a profile, a reporter's
    contact details, an applicant's documents): who, what, when. Written by
    `cityhall.access.log_access`, searched by the city administrator, never edited."""

    staff = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="staff member"
    )
    what = models.CharField("what was seen", max_length=120)
    record = models.CharField("record", max_length=160)
    path = models.CharField(max_length=300)
    ip = models.GenericIPAddressField("address", null=True, blank=True)
    at = models.DateTimeField("when", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "staff access to personal data"
        verbose_name_plural = "staff access to personal data"

    def __str__(self) -> str:
        return f"{self.staff} saw {self.what} of {self.record}"
