"""The console for alerts: compose with a preview of both languages and of the texts, publish,
schedule, update or cancel through the workflow services, and watch delivery progress."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from cityhall.console import NoRevert, WorkflowActions, records_behind_filter

from . import delivery, services
from .constants import AlertStatus
from .models import Alert, Delivery, Notification, Subscription, Topic
from .rendering import render_notification
from .sms import sms_length
from .workflow import ALERTS


@admin.register(Topic)
class TopicAdmin(NoRevert, SimpleHistoryAdmin):
    list_display = ["name_en", "name_es", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name_en", "name_es", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}


AREA_CHOICES = [
    ("city", "The whole city"),
    ("neighborhoods", "Only the neighborhoods ticked below"),
]


class AlertForm(forms.ModelForm):
    """The area is one explicit choice: the whole city, or the neighborhoods ticked (a new
    alert starts with neither chosen)."""

    citywide = forms.TypedChoiceField(
        label="Where",
        choices=AREA_CHOICES,
        coerce=lambda value: value == "city",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose where the alert applies."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["citywide"] = "city" if self.instance.citywide else "neighborhoods"
        else:
            self.initial.pop("citywide", None)

    def clean(self):
        cleaned = super().clean()
        citywide = cleaned.get("citywide")
        hoods = cleaned.get("neighborhoods")
        if citywide is False and not hoods:
            self.add_error(
                "neighborhoods", "Tick at least one neighborhood, or choose the whole city."
            )
        if citywide is True and hoods:
            self.add_error(
                "neighborhoods",
                "The whole city is chosen: untick the neighborhoods, or choose "
                '"Only the neighborhoods ticked below".',
            )
        return cleaned

    class Meta:
        model = Alert
        fields = [
            "title_en",
            "body_en",
            "instruction_en",
            "title_es",
            "body_es",
            "instruction_es",
            "english_only",
            "topic",
            "event",
            "event_es",
            "same_event",
            "category",
            "urgency",
            "severity",
            "certainty",
            "response_type",
            "effective",
            "onset",
            "expires",
            "citywide",
            "neighborhoods",
        ]
        widgets = {
            # Plain checkboxes: Django's filter_horizontal widget fails axe (aria on a span).
            "neighborhoods": forms.CheckboxSelectMultiple,
            "body_en": forms.Textarea(attrs={"rows": 5}),
            "body_es": forms.Textarea(attrs={"rows": 5}),
            "instruction_en": forms.Textarea(attrs={"rows": 3}),
            "instruction_es": forms.Textarea(attrs={"rows": 3}),
        }


@admin.register(Alert)
class AlertAdmin(NoRevert, WorkflowActions, SimpleHistoryAdmin):
    workflow = ALERTS
    form = AlertForm
    change_form_template = "admin/alerts/alert/change_form.html"
    list_display = [
        "title_en",
        "topic",
        "status",
        "msg_type",
        "severity",
        "published_at",
        "expires",
    ]
    list_filter = ["status", "msg_type", "severity", "topic", "category"]
    search_fields = ["title_en", "title_es", "event", "identifier"]
    date_hierarchy = "created_at"
    list_select_related = ["topic"]
    list_per_page = 50
    readonly_fields = [
        "status",
        "msg_type",
        "references",
        "identifier",
        "publish_at",
        "published_at",
        "published_by",
        "created_by",
        "preview",
        "progress",
    ]
    fieldsets = [
        (
            "Status",
            {
                "fields": [
                    "status",
                    "msg_type",
                    "references",
                    "publish_at",
                    "published_at",
                    "published_by",
                ]
            },
        ),
        ("English", {"fields": ["title_en", "body_en", "instruction_en"]}),
        (
            "Spanish",
            {"fields": ["title_es", "event_es", "body_es", "instruction_es", "english_only"]},
        ),
        (
            "Alert details (CAP)",
            {
                "fields": [
                    "topic",
                    "event",
                    "same_event",
                    "category",
                    "urgency",
                    "severity",
                    "certainty",
                    "response_type",
                    "effective",
                    "onset",
                    "expires",
                ]
            },
        ),
        ("Area", {"fields": ["citywide", "neighborhoods"]}),
        ("Preview", {"fields": ["preview"]}),
        ("Delivery", {"fields": ["progress"]}),
        ("Record", {"fields": ["identifier", "created_by"], "classes": ["collapse"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        """A draft reads as it is written: the text, then the preview. Once published, what
        matters first is how delivery is going and where it went: the status, delivery, area
        and preview come first, the text after."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.published_at:
            return fieldsets
        first = ("Status", "Delivery", "Area", "Preview")
        by_name = dict(fieldsets)
        ordered = [(name, by_name[name]) for name in first if name in by_name]
        return ordered + [(name, options) for name, options in fieldsets if name not in first]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != AlertStatus.DRAFT:
            # Only drafts are edited; a published alert changes through "Prepare an update".
            return [f.name for f in Alert._meta.fields if f.editable] + [
                "neighborhoods",
                *self.readonly_fields,
            ]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Preview")
    def preview(self, obj: Alert | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the draft to see the preview."
        previews = []
        for language in ("en", "es"):
            rendered = render_notification("alert", {"alert": obj}, language=language)
            previews.append(
                {"language": language, "rendered": rendered, "sms": sms_length(rendered.sms)}
            )
        return render_to_string(
            "admin/alerts/alert/_preview.html", {"previews": previews, "alert": obj}
        )

    @admin.display(description="Delivery progress")
    def progress(self, obj: Alert | None) -> str:
        if obj is None or obj.pk is None or not obj.published_at:
            return "Not published."
        return self._progress_html(obj)

    def _progress_html(self, alert: Alert) -> str:
        counts = delivery.delivery_progress(alert=alert)
        waiting = any(
            state in ("pending", "sending") for states in counts.values() for state in states
        )
        return render_to_string(
            "admin/alerts/alert/_progress.html",
            {
                "alert": alert,
                "counts": counts,
                "fan_out_done": bool(alert.fan_out_completed_at),
                # Poll while work remains; the table stops refreshing once everything settled.
                "live": waiting or not alert.fan_out_completed_at,
            },
        )

    def progress_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponse(self._progress_html(get_object_or_404(Alert, pk=pk)))

    # --- Workflow buttons (from the table in workflow.py) -----------------------------------
    def get_urls(self):
        own = [
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="alerts_alert_progress",
            )
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["publish_problems"] = (
                services.alert_publish_problems(obj) if obj.status == AlertStatus.DRAFT else []
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def action_done(self, request, alert, move, result):
        if move.name == "publish":
            messages.success(request, "Published. Deliveries are going out; progress is below.")
        elif move.name == "schedule":
            messages.success(
                request, f"Scheduled for {timezone.localtime(result.publish_at):%Y-%m-%d %H:%M}."
            )
        elif move.name in ("cancel", "discard"):
            sent = result.pk != alert.pk
            messages.success(request, "Cancelled." + (" A cancellation was sent." if sent else ""))
        elif move.name == "update":
            messages.success(request, "A draft update was created. Edit it, then publish it.")
            return reverse("admin:alerts_alert_change", args=[result.pk])
        elif move.name == "retry":
            messages.success(request, f"{result} failed deliveries will be tried again.")
        else:
            return None
        return reverse("admin:alerts_alert_change", args=[alert.pk])


class ConfirmedFilter(admin.SimpleListFilter):
    title = "confirmed"
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("yes", "Confirmed"), ("no", "Waiting for confirmation")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(confirmed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(confirmed_at__isnull=True)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(NoRevert, SimpleHistoryAdmin):
    list_display = ["__str__", "user", "language", "by_email", "by_sms", "citywide", "confirmed_at"]
    list_filter = [
        ConfirmedFilter,
        "language",
        "by_email",
        "by_sms",
        "citywide",
        "topics",
        records_behind_filter(),
    ]
    search_fields = ["email", "phone", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    readonly_fields = ["confirmed_at", "email_unsubscribed_at", "sms_unsubscribed_at", "created_at"]
    list_per_page = 50


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "user", "template", "language", "created_at", "read_at"]
    list_filter = ["template", "language"]
    search_fields = ["subject", "user__email", "subscription__email", "subscription__phone"]
    list_select_related = ["user"]
    readonly_fields = [*(f.name for f in Notification._meta.fields), "deliveries_list"]

    @admin.display(description="deliveries")
    def deliveries_list(self, obj):
        return render_to_string(
            "admin/alerts/notification/_deliveries.html", {"deliveries": obj.deliveries.all()}
        )

    list_per_page = 50

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["pk", "channel", "address", "status", "attempts", "sent_at", "short_error"]
    list_filter = ["status", "channel", records_behind_filter()]
    search_fields = ["address", "provider_message_id"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    list_per_page = 100

    @admin.display(description="error")
    def short_error(self, obj: Delivery) -> str:
        return format_html("<span title='{}'>{}</span>", obj.last_error, obj.last_error[:60])

    def has_add_permission(self, request):
        return False
