"""The permits console: queues, filters, and every move through the workflow services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
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
from cityhall.queues import WorkFilter

from . import selectors, services
from .constants import OPEN_STATUSES, InspectionStatus, Status
from .models import (
    Application,
    DocumentRequirement,
    Inspection,
    InspectionType,
    Payment,
    PermitType,
    Question,
)
from .workflow import APPLICATIONS, INSPECTIONS


class DocumentRequirementInline(admin.TabularInline):
    model = DocumentRequirement
    extra = 0


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0


@admin.register(PermitType)
class PermitTypeAdmin(NoRevert, SimpleHistoryAdmin):
    list_display = [
        "code",
        "name_en",
        "kind",
        "fee_kind",
        "fee_amount",
        "review_sla_days",
        "renewable",
        "blds_type",
        "is_active",
    ]
    list_filter = ["kind", "renewable", "is_active", "blds_type"]
    search_fields = ["code", "name_en", "name_es"]
    inlines = [DocumentRequirementInline, QuestionInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(InspectionType)
class InspectionTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_es", "position"]


class OverdueFilter(admin.SimpleListFilter):
    title = "review time"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("soon", "Due within 2 days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_STATUSES, due_at__lt=today)
        if self.value() == "soon":
            return queryset.filter(
                status__in=OPEN_STATUSES,
                due_at__gte=today,
                due_at__lte=today + timezone.timedelta(days=2),
            )
        return queryset


@admin.register(Application)
class ApplicationAdmin(NoRevert, AssigneePickers, WorkflowActions, SimpleHistoryAdmin):
    workflow = APPLICATIONS
    personal_data = "applicant details"
    change_form_template = "admin/permits/application/change_form.html"
    assignee_fields = {"assigned_reviewer": "permit_review"}
    # The columns that matter, narrow enough for 1280 px: number, type, address, status, due,
    # overdue, reviewer. The queue opens on open work, soonest due first (overdue on top).
    list_display = [
        "number",
        "type_code",
        "address",
        "applicant_name",
        "status",
        "due_at",
        "overdue",
        "reviewer",
    ]
    list_filter = [
        WorkFilter,
        status_queue_filter([*OPEN_STATUSES, Status.APPROVED]),
        OverdueFilter,
        "permit_type",
        ("assigned_reviewer", staff_list_filter()),
        "neighborhood",
        "online",
        records_behind_filter(),
    ]
    # And the applicant's email (get_search_results), through a subquery, not a join.
    search_fields = ["number", "address", "applicant_name", "business_name"]
    list_select_related = ["permit_type", "assigned_reviewer"]
    list_per_page = 50
    show_full_result_count = False  # no second count of every row on each page
    paginator = EstimatedCountPaginator
    # Matches the index "application_queue_order" (permits/models.py).
    ordering = [F("due_at").asc(nulls_last=True), "-submitted_at", "-pk"]
    actions = ["assign_to_me", "assign_to"]
    fieldsets = [
        (
            "Application",
            {"fields": ["number", "permit_type", "status", "assigned_reviewer", "renews"]},
        ),
        (
            "Applicant",
            {"fields": ["applicant", "applicant_name", "applicant_phone", "business_name"]},
        ),
        ("Property", {"fields": ["address", "zip_code", "neighborhood", "latitude", "longitude"]}),
        (
            "Project",
            {
                "fields": [
                    "description",
                    "valuation",
                    "units",
                    "total_sq_ft",
                    "housing_units",
                    "parcel_number",
                    "contractor_name",
                    "contractor_license",
                    "answers_display",
                ]
            },
        ),
        ("Fees", {"fields": ["fee_total", "balance_display"]}),
        ("Decision", {"fields": ["conditions", "decision_reason"]}),
        (
            "Dates",
            {
                "fields": [
                    "submitted_at",
                    "due_at",
                    "decided_at",
                    "issued_at",
                    "expires_at",
                    "finaled_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Nothing here is edited by hand: every change goes through a workflow action.
        names = [
            f
            for fieldset in self.fieldsets
            for f in fieldset[1]["fields"]
            if f != "assigned_reviewer"
        ]
        return names

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(status=Status.DRAFT)

    def get_search_results(self, request, queryset, search_term):
        """Each word matches the number, address, names, or the applicant's email. The email
        is matched in the users table first (a subquery), so every other condition stays on
        this table, where the trigram indexes answer it; an OR across a join reads every row."""
        from django.contrib.auth import get_user_model
        from django.db.models import Q
        from django.utils.text import smart_split, unescape_string_literal

        words = [
            unescape_string_literal(word) if word[:1] in "\"'" and word[-1:] == word[:1] else word
            for word in smart_split(search_term or "")
        ]
        for word in words:
            emails = get_user_model().objects.filter(email__icontains=word).values("pk")
            condition = Q(applicant_id__in=emails)
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(condition)
        return queryset, False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="overdue")
    def overdue(self, obj):
        return bool(
            obj.due_at and obj.status in OPEN_STATUSES and obj.due_at < timezone.localdate()
        )

    @admin.display(description="answers")
    def answers_display(self, obj):
        return format_html(
            "<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", obj.answers.items())
        )

    @admin.display(description="balance due")
    def balance_display(self, obj):
        return f"${obj.balance}"

    def save_model(self, request, obj, form, change):
        if "assigned_reviewer" in form.changed_data:
            services.application_assign(
                application=obj, actor=request.user, reviewer=obj.assigned_reviewer
            )
        # Nothing else is saved from the form.

    @admin.display(description="type", ordering="permit_type__code")
    def type_code(self, obj):
        return obj.permit_type.code

    @admin.display(description="reviewer", ordering="assigned_reviewer__first_name")
    def reviewer(self, obj):
        return obj.assigned_reviewer.display_name if obj.assigned_reviewer else "—"

    def view_on_site(self, obj):
        # The applicant's own page is private to them; the public record is the permit search.
        return f"{reverse('permits:search')}?q={obj.number}" if obj.number else None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["case_page"] = selectors.console_page(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def assign(self, request, obj, person) -> None:
        services.application_assign(application=obj, actor=request.user, reviewer=person)

    assign_work = "permit_review"

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        for application in queryset:
            self.assign(request, application, request.user)
        messages.success(request, f"{queryset.count()} applications assigned to you.")

    @admin.action(description="Assign to a reviewer…")
    def assign_to(self, request, queryset):
        return bulk_assign(self, request, queryset)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyList, admin.ModelAdmin):
    """Fees paid and waived, read-only: payments are recorded on their application."""

    list_display = ["created_at", "application_link", "amount", "method", "reference"]
    list_filter = ["method", records_behind_filter()]
    search_fields = ["application__number", "reference"]
    list_select_related = ["application"]
    ordering = ["-created_at"]

    @admin.display(description="application", ordering="application__number")
    def application_link(self, obj):
        url = reverse("admin:permits_application_change", args=[obj.application_id])
        return format_html('<a href="{}">{}</a>', url, obj.application.number)


@admin.register(Inspection)
class InspectionAdmin(NoRevert, WorkflowActions, SimpleHistoryAdmin):
    workflow = INSPECTIONS
    change_form_template = "admin/permits/inspection/change_form.html"
    list_display = [
        "application",
        "inspection_type",
        "status",
        "scheduled_for",
        "inspector",
        "preferred_dates",
    ]
    list_filter = [
        WorkFilter,
        status_queue_filter([InspectionStatus.REQUESTED, InspectionStatus.SCHEDULED]),
        "inspection_type",
        ("inspector", staff_list_filter()),
        "scheduled_for",
    ]
    search_fields = ["application__number", "application__address"]
    list_select_related = ["application", "inspection_type", "inspector"]
    # Open work first: requested (to schedule) and scheduled, soonest first.
    ordering = [F("scheduled_for").asc(nulls_first=True), "requested_at"]
    readonly_fields = [
        "application",
        "inspection_type",
        "status",
        "preferred_dates",
        "scheduled_for",
        "inspector",
        "notes",
        "corrections",
        "requested_at",
        "completed_at",
    ]

    def has_add_permission(self, request):
        return False
