"""The console for alerts: compose with a preview of both languages and of the texts, publish,
schedule, update or cancel through the workflow services, and watch delivery progress."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import delivery, services
from .constants import AlertStatus
from .models import Alert, Delivery, Notification, Subscription, Topic
from .rendering import render_notification
from .sms import sms_length
from .workflow import TransitionNotAllowed, allowed_targets


@admin.register(Topic)
class TopicAdmin(SimpleHistoryAdmin):
    list_display = ["name_en", "name_es", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["name_en", "name_es", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}


class AlertForm(forms.ModelForm):
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
class AlertAdmin(SimpleHistoryAdmin):
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
        ("Spanish", {"fields": ["title_es", "body_es", "instruction_es", "english_only"]}),
        (
            "Alert details (CAP)",
            {
                "fields": [
                    "topic",
                    "event",
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

    # --- Workflow buttons -----------------------------------------------------------------
    def get_urls(self):
        views = {
            "publish": self.publish_view,
            "schedule": self.schedule_view,
            "unschedule": self.unschedule_view,
            "cancel": self.cancel_view,
            "update": self.update_view,
            "retry": self.retry_view,
            "progress": self.progress_view,
        }
        own = [
            path(f"<int:pk>/{name}/", self.admin_site.admin_view(view), name=f"alerts_alert_{name}")
            for name, view in views.items()
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["workflow_targets"] = allowed_targets(
                current=obj.status, actor=request.user
            )
            extra_context["can_publish"] = request.user.has_perm("alerts.publish_alert")
            extra_context["publish_problems"] = (
                services.alert_publish_problems(obj) if obj.status == AlertStatus.DRAFT else []
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def _act(self, request: HttpRequest, pk: int, action) -> HttpResponseRedirect:
        if request.method != "POST":
            raise PermissionDenied
        alert = get_object_or_404(Alert, pk=pk)
        try:
            result = action(alert)
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            if isinstance(result, Alert) and result.pk != alert.pk:
                return HttpResponseRedirect(reverse("admin:alerts_alert_change", args=[result.pk]))
        return HttpResponseRedirect(reverse("admin:alerts_alert_change", args=[pk]))

    def publish_view(self, request, pk):
        def action(alert):
            published = services.alert_publish(alert=alert, actor=request.user)
            messages.success(request, "Published. Deliveries are going out; progress is below.")
            return published

        return self._act(request, pk, action)

    def schedule_view(self, request, pk):
        def action(alert):
            raw = request.POST.get("publish_at", "")
            when = parse_datetime(raw) if raw else None
            if when is None:
                raise ValidationError("Enter the date and time to publish, like 2026-12-01 08:00.")
            if timezone.is_naive(when):
                when = timezone.make_aware(when)
            scheduled = services.alert_schedule(alert=alert, actor=request.user, publish_at=when)
            messages.success(request, f"Scheduled for {timezone.localtime(when):%Y-%m-%d %H:%M}.")
            return scheduled

        return self._act(request, pk, action)

    def unschedule_view(self, request, pk):
        return self._act(
            request, pk, lambda alert: services.alert_unschedule(alert=alert, actor=request.user)
        )

    def cancel_view(self, request, pk):
        def action(alert):
            result = services.alert_cancel(
                alert=alert,
                actor=request.user,
                reason_en=request.POST.get("reason_en", "").strip(),
                reason_es=request.POST.get("reason_es", "").strip(),
            )
            messages.success(
                request,
                "Cancelled." + (" A cancellation was sent." if result.pk != alert.pk else ""),
            )
            return alert

        return self._act(request, pk, action)

    def update_view(self, request, pk):
        def action(alert):
            if not request.user.has_perm("alerts.add_alert"):
                raise TransitionNotAllowed("You do not have permission to create alerts.")
            update = services.alert_prepare_update(alert=alert, actor=request.user)
            messages.success(request, "A draft update was created. Edit it, then publish it.")
            return update

        return self._act(request, pk, action)

    def retry_view(self, request, pk):
        def action(alert):
            if not request.user.has_perm("alerts.publish_alert"):
                raise TransitionNotAllowed("You do not have permission to resend alerts.")
            count = delivery.deliveries_retry_failed(alert=alert)
            messages.success(request, f"{count} failed deliveries will be tried again.")
            return alert

        return self._act(request, pk, action)


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
class SubscriptionAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "user", "language", "by_email", "by_sms", "citywide", "confirmed_at"]
    list_filter = [ConfirmedFilter, "language", "by_email", "by_sms", "citywide", "topics"]
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
    list_filter = ["status", "channel"]
    search_fields = ["address", "provider_message_id"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    list_per_page = 100

    @admin.display(description="error")
    def short_error(self, obj: Delivery) -> str:
        return format_html("<span title='{}'>{}</span>", obj.last_error, obj.last_error[:60])

    def has_add_permission(self, request):
        return False
