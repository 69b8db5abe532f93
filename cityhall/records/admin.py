"""The console's records pages: the retention schedule (with its history), the disposal log,
legal holds (placed and released with a reason) and public-records exports."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator, slugify
from simple_history.admin import SimpleHistoryAdmin

from cityhall.console import NoRevert, ReadOnlyList

from . import export, registry, services
from .forms import LegalHoldForm, ReleaseForm, RetentionRuleForm
from .models import Action, DisposalLog, LegalHold, RecordsRequest, RetentionRule, kind_labels

HOLD_PERMISSION = "records.place_legal_hold"


@admin.register(RetentionRule)
class RetentionRuleAdmin(NoRevert, SimpleHistoryAdmin):
    form = RetentionRuleForm
    list_display = ["record", "kept_for", "then", "counted", "why"]
    list_filter = ["action"]
    search_fields = ["record_type", "reason"]
    list_per_page = 100

    READER_FIELDS = ["record", "applies", "kept_for", "then", "counted", "reason", "due_now"]

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.READER_FIELDS  # in words, for a manager who reads the schedule
        fields = ["record_type", "status", "kind", "period", "unit", "action", "reason"]
        return [*fields, "due_now"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return self.READER_FIELDS
        return ["due_now"]

    def get_list_display(self, request):
        # "Applies to" names kinds (permit types, categories) read once per page, not per row.
        labels = kind_labels()

        @admin.display(description="applies to")
        def applies(obj: RetentionRule) -> str:
            return obj.describe_scope(labels)

        return ["record", applies, "kept_for", "then", "counted", "why"]

    @admin.display(description="record type", ordering="record_type")
    def record(self, obj: RetentionRule) -> str:
        return obj.type_label

    @admin.display(description="applies to")
    def applies(self, obj: RetentionRule) -> str:
        return obj.applies_to

    @admin.display(description="kept")
    def kept_for(self, obj: RetentionRule) -> str:
        return obj.period_text

    @admin.display(description="then", ordering="action")
    def then(self, obj: RetentionRule) -> str:
        return {"delete": "Delete", "anonymise": "Anonymise", "keep": "Keep"}.get(obj.action, "")

    @admin.display(description="reason")
    def why(self, obj: RetentionRule) -> str:
        return Truncator(obj.reason).words(14)

    @admin.display(description="counted")
    def counted(self, obj: RetentionRule) -> str:
        return str(obj.kind_of.counted_from) if obj.kind_of else ""

    @admin.display(description="due for disposal tonight")
    def due_now(self, obj: RetentionRule) -> str:
        if obj.action == Action.KEEP:
            return "Nothing: these records are kept permanently."
        if obj.record_type == "cityhall.history":
            # (millions of rows in some thirty tables: counted by the night's run, not here)
            return "See the disposal log: the night's run counts history rows."
        count = services.due(obj)
        held = (
            " (records under a legal hold are not counted)"
            if LegalHold.objects.active().exists()
            else ""
        )
        verb = "deleted" if obj.action == Action.DELETE else "anonymised"
        return f"{count} record{'s' if count != 1 else ''} would be {verb} tonight{held}."


class RecordTypeFilter(admin.SimpleListFilter):
    title = "record type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(key, str(label)) for key, label in registry.choices()]

    def queryset(self, request, queryset):
        return queryset.filter(record_type=self.value()) if self.value() else queryset


class DisposedFilter(admin.SimpleListFilter):
    title = "result"
    parameter_name = "result"

    def lookups(self, request, model_admin):
        return [("some", "Disposed of something"), ("none", "Nothing was due")]

    def queryset(self, request, queryset):
        something = Q(deleted__gt=0) | Q(anonymised__gt=0)
        if self.value() == "some":
            return queryset.filter(something)
        if self.value() == "none":
            return queryset.exclude(something)
        return queryset


@admin.register(DisposalLog)
class DisposalLogAdmin(ReadOnlyList, admin.ModelAdmin):
    list_display = ["started_at", "rule_text", "deleted", "anonymised", "older_than", "done"]
    list_filter = [DisposedFilter, RecordTypeFilter]
    date_hierarchy = "started_at"
    ordering = ["-started_at", "-pk"]

    @admin.display(description="records older than", ordering="cutoff")
    def older_than(self, obj: DisposalLog) -> str:
        return f"{timezone.localtime(obj.cutoff):%Y-%m-%d %H:%M}"

    @admin.display(description="finished")
    def done(self, obj: DisposalLog) -> str:
        if obj.note:
            return obj.note
        if obj.finished_at is None:
            if obj.started_at < timezone.now() - timedelta(hours=1):
                return "Did not finish (the worker stopped): the next run goes on"
            return "Running"
        return f"{obj.batches} batch{'es' if obj.batches != 1 else ''}"


class HoldStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("released", "Released")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(NoRevert, SimpleHistoryAdmin):
    form = LegalHoldForm
    list_display = ["subject_text", "kind", "state", "reason", "placed_by", "placed_at"]
    list_filter = [HoldStateFilter, "kind"]
    search_fields = ["reference", "address", "person_email", "reason"]
    change_form_template = "admin/records/legalhold/change_form.html"
    list_select_related = ["placed_by", "released_by"]
    readonly_fields = ["kind", "subject_text", "reason", "placed_by", "placed_at", "state"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kind", "record_type", "reference", "address", "person_email", "reason"]
        return ["kind", "subject_text", "reason", "placed_by", "placed_at", "state"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="on")
    def subject_text(self, obj: LegalHold) -> str:
        return obj.subject

    @admin.display(description="state")
    def state(self, obj: LegalHold) -> str:
        if obj.released_at is None:
            return "Active: nothing it covers is disposed of"
        by = obj.released_by.display_name if obj.released_by else "—"
        return f"Released {timezone.localtime(obj.released_at):%Y-%m-%d %H:%M} by {by}: {obj.release_reason}"

    def has_add_permission(self, request):
        return request.user.has_perm(HOLD_PERMISSION)

    def has_change_permission(self, request, obj=None):
        # Placed holds are not edited: they are released (with a reason) on their page.
        return obj is None and request.user.has_perm(HOLD_PERMISSION)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("records.view_legalhold") or request.user.has_perm(
            HOLD_PERMISSION
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.placed_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "<int:pk>/release/",
                self.admin_site.admin_view(self.release_view),
                name="records_legalhold_release",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        extra.setdefault("release_form", ReleaseForm())
        extra["may_release"] = request.user.has_perm(HOLD_PERMISSION)
        return super().change_view(request, object_id, form_url, extra)

    def release_view(self, request, pk: int):
        if request.method != "POST":
            return redirect("admin:records_legalhold_change", pk)
        if not request.user.has_perm(HOLD_PERMISSION):
            raise PermissionDenied
        hold = get_object_or_404(LegalHold, pk=pk)
        form = ReleaseForm(request.POST)
        if form.is_valid():
            services.hold_release(hold, by=request.user, reason=form.cleaned_data["release_reason"])
            messages.success(
                request,
                f"Released the hold on {hold.subject}. The retention schedule applies to its "
                "records again from tonight.",
            )
            return redirect("admin:records_legalhold_change", pk)
        page = copy.copy(request)
        page.method = "GET"
        page.POST = QueryDict()
        response = self.change_view(page, str(pk), extra_context={"release_form": form})
        response.status_code = 400
        return response


@admin.register(RecordsRequest)
class RecordsRequestAdmin(admin.ModelAdmin):
    list_display = ["made_at", "subject", "requester", "made_by", "records"]
    search_fields = ["address", "reference", "requester"]
    change_form_template = "admin/records/recordsrequest/change_form.html"
    fields = ["address", "reference", "requester"]

    @admin.display(description="about")
    def subject(self, obj: RecordsRequest) -> str:
        return obj.reference or obj.address

    @admin.display(description="records")
    def records(self, obj: RecordsRequest) -> str:
        return ", ".join(f"{name}: {count}" for name, count in obj.counts.items()) or "—"

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.made_by = request.user
        _zip, obj.counts = export.build(
            address=obj.address, reference=obj.reference, city=settings.CITY["name"]
        )
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        total = sum(obj.counts.values())
        messages.success(
            request,
            f"The export about {obj} holds {total} record{'s' if total != 1 else ''}. Download "
            "it below; what was left out and why is in its README.",
        )
        return redirect("admin:records_recordsrequest_change", obj.pk)

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="records_recordsrequest_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = get_object_or_404(RecordsRequest, pk=pk)
        data, _counts = export.build(
            address=row.address, reference=row.reference, city=settings.CITY["name"]
        )
        response = HttpResponse(data, content_type="application/zip")
        name = slugify(str(row))[:60] or "records"
        response["Content-Disposition"] = f'attachment; filename="public-records-{name}.zip"'
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        extra["download_url"] = reverse("admin:records_recordsrequest_download", args=[object_id])
        return super().change_view(request, object_id, form_url, extra)
