"""The code enforcement console: triage queue, duplicates and merge, cases, notices, API keys."""

from __future__ import annotations

import mimetypes

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Case, F, When
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from cityhall.console import (
    AssigneePickers,
    EstimatedCountPaginator,
    NoRevert,
    ReadOnlyList,
    WorkflowActions,
    bulk_assign,
    records_behind_filter,
    staff_list_filter,
    status_queue_filter,
)
from cityhall.forms import LabelledFileInput
from cityhall.links import site_url
from cityhall.queues import WorkFilter

from . import services
from .constants import CaseStatus, RequestStatus
from .models import (
    Address,
    ApiKey,
    CaseInspection,
    CodeCase,
    Department,
    Notice,
    RequestPhoto,
    ServiceAttribute,
    ServiceCategory,
    ServiceRequest,
    Violation,
    ViolationType,
)
from .workflow import CASES, REQUESTS, TransitionNotAllowed


class AttributeInline(admin.StackedInline):
    model = ServiceAttribute
    extra = 0


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(NoRevert, SimpleHistoryAdmin):
    list_display = [
        "code",
        "name_en",
        "group",
        "department",
        "triage_sla_days",
        "resolution_sla_days",
        "opens_cases",
        "sensitive",
        "is_active",
    ]
    list_filter = ["group", "department", "opens_cases", "sensitive", "is_active"]
    search_fields = ["code", "name_en", "name_es", "keywords"]
    inlines = [AttributeInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "name_es", "email"]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["line", "zip_code", "neighborhood"]
    search_fields = ["line"]
    list_filter = ["neighborhood"]
    list_select_related = ["neighborhood"]


@admin.register(ViolationType)
class ViolationTypeAdmin(admin.ModelAdmin):
    list_display = ["code_section", "title_en", "comply_days"]
    search_fields = ["code_section", "title_en"]


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "contact_email", "requests_per_minute", "revoked_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(NoRevert, SimpleHistoryAdmin):
    form = ApiKeyForm
    list_display = [
        "name",
        "prefix",
        "contact_email",
        "requests_per_minute",
        "created_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, raw = ApiKey.issue(
            name=obj.name,
            contact_email=obj.contact_email,
            requests_per_minute=obj.requests_per_minute,
        )
        obj.pk = key.pk
        messages.warning(request, f"The new API key is {raw} — copy it now; it is not shown again.")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoked_at = timezone.now()
            key.save()
        messages.success(request, "Revoked.")


OPEN_REQUESTS = [RequestStatus.NEW, RequestStatus.ACKNOWLEDGED, RequestStatus.IN_PROGRESS]
OPEN_CASES = [status for status in CaseStatus if status != CaseStatus.CLOSED]


def _overdue_flag(due) -> str:
    """The list's overdue column: "OVERDUE n d" for open work past its due date, else blank."""
    days = (due - timezone.localdate()).days if due else 0
    if days < 0:
        return format_html('<strong class="cityhall-overdue">OVERDUE {} d</strong>', -days)
    return ""


class TriageFilter(admin.SimpleListFilter):
    title = "triage time"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [("overdue", "Triage overdue"), ("late", "Resolution overdue")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(status=RequestStatus.NEW, triage_due__lt=today)
        if self.value() == "late":
            return queryset.exclude(status=RequestStatus.CLOSED).filter(resolve_due__lt=today)
        return queryset


@admin.register(ServiceRequest)
class ServiceRequestAdmin(NoRevert, AssigneePickers, WorkflowActions, SimpleHistoryAdmin):
    workflow = REQUESTS
    personal_data = "reporter contact details"
    change_form_template = "admin/code_enforcement/servicerequest/change_form.html"
    assignee_fields = {"assigned_to": "service_request"}
    assign_work = "service_request"
    # Number, type, address, status, due, overdue, assignee: fits 1280 px. The queue opens on
    # open work, soonest due first (triage due while new, resolution due after).
    list_display = [
        "public_id",
        "category",
        "address",
        "status",
        "due",
        "overdue",
        "assignee",
    ]
    list_filter = [
        WorkFilter,
        status_queue_filter(OPEN_REQUESTS),
        TriageFilter,
        "category",
        "department",
        ("assigned_to", staff_list_filter()),
        "neighborhood",
        "source",
        records_behind_filter(),
    ]
    search_fields = ["=public_id", "address", "contact_name", "description"]
    list_select_related = ["category", "assigned_to"]
    list_per_page = 50
    show_full_result_count = False  # no second count of every row on each page
    paginator = EstimatedCountPaginator
    # Matches the index "request_queue_order" (code_enforcement/models.py): the first page is
    # read off the index, not sorted out of a million rows.
    ordering = [
        Case(When(status=RequestStatus.NEW, then=F("triage_due")), default=F("resolve_due")).asc(
            nulls_last=True
        ),
        "created_at",
        "pk",
    ]
    actions = ["acknowledge", "assign_to_me", "assign_to", "open_case"]
    readonly_fields = [
        "public_id",
        "category",
        "status",
        "resolution",
        "description",
        "attributes",
        "address",
        "latitude",
        "longitude",
        "neighborhood",
        "contact",
        "source",
        "duplicate_of",
        "case",
        "created_at",
        "triage_due",
        "resolve_due",
        "closed_at",
        "photos_list",
        "media_link",
        "events_list",
        "duplicates_list",
    ]
    fields = [*readonly_fields[:13], "department", "assigned_to", *readonly_fields[13:]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # What is due next: triage while the report is new, resolution after.
        return (
            super()
            .get_queryset(request)
            .annotate(
                due_on=Case(
                    When(status=RequestStatus.NEW, then=F("triage_due")),
                    default=F("resolve_due"),
                )
            )
        )

    @admin.display(description="due", ordering="due_on")
    def due(self, obj):
        if obj.status == RequestStatus.CLOSED or not obj.due_on:
            return "—"
        what = "triage" if obj.status == RequestStatus.NEW else "fix"
        same_year = obj.due_on.year == timezone.localdate().year
        return f"{what} {obj.due_on:%b %-d}" if same_year else f"{what} {obj.due_on:%b %-d %Y}"

    @admin.display(description="overdue")
    def overdue(self, obj):
        return _overdue_flag(obj.due_on if obj.status != RequestStatus.CLOSED else None)

    @admin.display(description="assigned to", ordering="assigned_to__first_name")
    def assignee(self, obj):
        return obj.assigned_to.display_name if obj.assigned_to else "—"

    def assign(self, request, obj, person) -> None:
        services.request_assign(request=obj, actor=request.user, assignee=person)

    @admin.action(description="Assign to…")
    def assign_to(self, request, queryset):
        return bulk_assign(self, request, queryset)

    @admin.display(description="reporter contact")
    def contact(self, obj):
        parts = [
            obj.reporter.email if obj.reporter_id else "",
            obj.contact_name,
            obj.contact_email,
            obj.contact_phone,
        ]
        return ", ".join(p for p in parts if p) or "anonymous"

    @admin.display(description="media link from the Open311 client")
    def media_link(self, obj):
        # The client's link, shown as text to open: the City never fetches it.
        if not obj.media_url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener noreferrer nofollow">{}</a>'
            " (outside link, sent by the app that filed the report)",
            obj.media_url,
            obj.media_url,
        )

    @admin.display(description="photos")
    def photos_list(self, obj):
        return render_to_string(
            "admin/code_enforcement/servicerequest/_photos.html",
            {"photos": obj.photos.all(), "obj": obj},
        )

    @admin.display(description="timeline")
    def events_list(self, obj):
        return render_to_string(
            "admin/code_enforcement/servicerequest/_events.html",
            {"events": obj.events.select_related("actor")},
        )

    @admin.display(description="possible duplicates within 150 m")
    def duplicates_list(self, obj):
        nearby = []
        if obj.latitude is not None and obj.status != RequestStatus.CLOSED:
            nearby = services.nearby_open_requests(
                category=obj.category,
                latitude=obj.latitude,
                longitude=obj.longitude,
                exclude_pk=obj.pk,
            )
        return render_to_string(
            "admin/code_enforcement/servicerequest/_duplicates.html", {"nearby": nearby, "obj": obj}
        )

    def save_model(self, request, obj, form, change):
        if {"department", "assigned_to"} & set(form.changed_data):
            services.request_assign(
                request=obj, actor=request.user, department=obj.department, assignee=obj.assigned_to
            )

    @admin.action(description="Acknowledge")
    def acknowledge(self, request, queryset):
        done = 0
        for obj in queryset.filter(status=RequestStatus.NEW):
            try:
                services.request_acknowledge(request=obj, actor=request.user)
                done += 1
            except TransitionNotAllowed as error:
                messages.error(request, str(error))
                return
        messages.success(request, f"{done} acknowledged.")

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        try:
            for obj in queryset:
                services.request_assign(request=obj, actor=request.user, assignee=request.user)
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return
        messages.success(request, "Assigned to you.")

    @admin.action(description="Open one code case from the selected requests")
    def open_case(self, request, queryset):
        try:
            case = services.case_open(
                requests=list(queryset.order_by("created_at")), actor=request.user
            )
        except (TransitionNotAllowed, ValidationError) as error:
            messages.error(request, getattr(error, "messages", [str(error)])[0])
            return None
        messages.success(request, f"Case {case.number} opened.")
        return HttpResponseRedirect(
            reverse("admin:code_enforcement_codecase_change", args=[case.pk])
        )

    def action_done(self, request, obj, move, result):
        if move.name == "case":
            scheduled = result.inspections.filter(completed_at__isnull=True).first()
            if scheduled is not None:
                messages.success(
                    request,
                    f"Case {result.number} opened; the first inspection is on "
                    f"{scheduled.scheduled_for:%A %-d %B} with {result.inspector.display_name}.",
                )
            else:
                messages.success(request, f"Case {result.number} opened.")
            return reverse("admin:code_enforcement_codecase_change", args=[result.pk])
        return None


@admin.register(CodeCase)
class CodeCaseAdmin(NoRevert, AssigneePickers, WorkflowActions, SimpleHistoryAdmin):
    workflow = CASES
    personal_data = "property owner details"
    change_form_template = "admin/code_enforcement/codecase/change_form.html"
    assignee_fields = {"inspector": "code_case"}
    assign_work = "code_case"
    list_display = [
        "number",
        "address",
        "status",
        "comply_by",
        "overdue",
        "inspector_name",
        "repeat_violation",
    ]
    ordering = [F("comply_by").asc(nulls_last=True), "opened_at"]
    actions = ["assign_to"]
    list_filter = [
        WorkFilter,
        status_queue_filter(OPEN_CASES),
        "repeat_violation",
        ("inspector", staff_list_filter()),
        "neighborhood",
        records_behind_filter(),
    ]
    search_fields = ["number", "address", "owner_name"]
    list_select_related = ["inspector"]
    list_per_page = 50
    # The case's record (violations, inspections, notices, photos, timeline) comes right after
    # where it stands, above the owner's details that are filled in once.
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("number", "status"),
                    ("address", "neighborhood"),
                    ("inspector", "comply_by"),
                    ("fine_amount", "fine_due", "fine_paid_online"),
                    ("repeat_violation", "opened_at", "closed_at"),
                ]
            },
        ),
        ("Case record", {"fields": ["record"]}),
        (
            "Property owner",
            {
                "fields": [
                    "owner_name",
                    "owner_mailing_address",
                    "owner_email",
                    "owner_language",
                ]
            },
        ),
    ]
    readonly_fields = [
        "number",
        "status",
        "address",
        "neighborhood",
        "comply_by",
        "fine_amount",
        "fine_due",
        "fine_paid_online",
        "repeat_violation",
        "opened_at",
        "closed_at",
        "record",
    ]

    @admin.display(description="fine paid")
    def fine_paid_online(self, obj):
        """The citation's ledger: paid online, refunded, and what is still due."""
        if obj.fine_amount is None:
            return "—"
        rows = list(obj.fine_payments.select_related("online_payment"))
        if not rows:
            return f"Nothing yet (${obj.fine_amount} due)"
        lines = [
            format_html(
                '{} {} — <a href="{}">{}</a>',
                row.get_method_display(),
                f"-${-row.amount}" if row.amount < 0 else f"${row.amount}",
                reverse("admin:billing_payment_change", args=[row.online_payment_id]),
                row.reference,
            )
            for row in rows
        ]
        lines.append(format_html("<strong>Still due: ${}</strong>", obj.fine_balance))
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    def has_add_permission(self, request):
        return False

    @admin.display(description="overdue")
    def overdue(self, obj):
        return _overdue_flag(obj.comply_by if obj.status in OPEN_CASES else None)

    @admin.display(description="inspector", ordering="inspector__first_name")
    def inspector_name(self, obj):
        return obj.inspector.display_name if obj.inspector else "—"

    def assign(self, request, obj, person) -> None:
        services.case_assign(case=obj, actor=request.user, inspector=person)

    @admin.action(description="Assign to an inspector…")
    def assign_to(self, request, queryset):
        return bulk_assign(self, request, queryset)

    @admin.display(description="violations, inspections, notices, photos, timeline")
    def record(self, obj):
        return render_to_string(
            "admin/code_enforcement/codecase/_record.html",
            {
                "case": obj,
                "violations": obj.violations.select_related("violation_type"),
                "inspections": obj.inspections.select_related("inspector"),
                "notices": obj.notices.all(),
                "events": obj.events.select_related("actor"),
                "requests": obj.requests.select_related("category"),
                "report_photos": RequestPhoto.objects.filter(request__case=obj)
                .select_related("request")
                .order_by("request_id", "pk"),
                "inspection_photos": obj.inspections.exclude(photo="").order_by("scheduled_for"),
            },
        )

    def get_urls(self):
        return [
            path(
                "notice/<int:notice_id>/",
                self.admin_site.admin_view(self.notice_view),
                name="code_enforcement_notice",
            ),
            path(
                "inspection/<int:inspection_id>/photo/",
                self.admin_site.admin_view(self.inspection_photo_view),
                name="code_enforcement_inspection_photo",
            ),
            *super().get_urls(),
        ]

    def inspection_photo_view(self, request, inspection_id):
        """An inspector's photo, to staff who may see the case (never public: it may show a
        private yard)."""
        if not request.user.has_perm("code_enforcement.view_codecase"):
            raise PermissionDenied
        inspection = get_object_or_404(CaseInspection.objects.exclude(photo=""), pk=inspection_id)
        kind = mimetypes.guess_type(inspection.photo.name)[0] or "application/octet-stream"
        response = FileResponse(inspection.photo.open("rb"), content_type=kind)
        response["Cache-Control"] = "private, max-age=300"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def notice_view(self, request, notice_id):
        """The printable letter, in the notice's language."""
        notice = get_object_or_404(Notice.objects.select_related("case"), pk=notice_id)
        if not request.user.has_perm("code_enforcement.view_codecase"):
            raise PermissionDenied
        with translation.override(notice.language):
            return render(
                request,
                "code_enforcement/notice_letter.html",
                {
                    "notice": notice,
                    "case": notice.case,
                    "violations": notice.case.violations.select_related("violation_type"),
                    "SITE_URL": site_url(),  # where to pay a citation online
                },
            )

    def action_done(self, request, obj, move, result):
        if move.name == "notice":
            return reverse("admin:code_enforcement_notice", args=[result.pk])
        return None


@admin.register(Violation)
class ViolationAdmin(ReadOnlyList, admin.ModelAdmin):
    """Every violation found, read-only: they are recorded and corrected on their case."""

    list_display = ["case_link", "violation_type", "severity", "comply_by", "corrected_at"]
    list_filter = ["severity", "violation_type", records_behind_filter()]
    search_fields = ["case__number", "case__address"]
    list_select_related = ["case", "violation_type"]
    ordering = ["-created_at"]

    @admin.display(description="case", ordering="case__number")
    def case_link(self, obj):
        url = reverse("admin:code_enforcement_codecase_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.number)


@admin.register(CaseInspection)
class CaseInspectionAdmin(NoRevert, AssigneePickers, SimpleHistoryAdmin):
    assignee_fields = {"inspector": "code_case"}
    formfield_overrides = {models.ImageField: {"widget": LabelledFileInput}}
    list_display = ["case", "kind", "scheduled_for", "inspector", "result"]
    ordering = ["-scheduled_for", "pk"]
    list_filter = [
        WorkFilter,
        "kind",
        "result",
        "scheduled_for",
        ("inspector", staff_list_filter()),
    ]
    search_fields = ["case__number", "case__address"]
    list_select_related = ["case", "inspector"]
    readonly_fields = ["case", "kind", "result", "completed_at"]

    def has_add_permission(self, request):
        return False
