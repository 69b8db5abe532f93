"""The console's payment pages: every online payment (read-only) with its refunds and a refund
form, and the daily reconciliation with its CSV and mismatch list."""

from __future__ import annotations

import copy
import csv
from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from payments import PaymentError
from simple_history.admin import SimpleHistoryAdmin

from cityhall.console import NoRevert, ReadOnlyList, records_behind_filter
from cityhall.csvsafe import safe_cell

from . import services
from .forms import RefundForm
from .models import Payment, Reconciliation, Refund, RefundStatus
from .registry import PAYABLES

REFUND_PERMISSION = "permits.refund_payment"


class SettledFilter(admin.SimpleListFilter):
    title = "recorded in the ledger"
    parameter_name = "settled"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Recorded"),
            ("no", "Not recorded"),
            ("overpaid", "Paid more than was due (refund the rest)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(settled_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(settled_at__isnull=True)
        if self.value() == "overpaid":
            return queryset.filter(overpaid__gt=0)
        return queryset


@admin.register(Payment)
class PaymentAdmin(NoRevert, ReadOnlyList, SimpleHistoryAdmin):
    list_display = [
        "created",
        "receipt_number",
        "paid_for",
        "amount",
        "convenience_fee",
        "status",
        "settled_at",
        "refunded",
        "overpaid",
    ]
    list_filter = ["status", "kind", SettledFilter, "variant", records_behind_filter()]
    search_fields = ["=receipt_number", "=reference", "billing_email", "=provider_reference"]
    ordering = ["-created"]
    date_hierarchy = None
    change_form_template = "admin/billing/payment/change_form.html"
    readonly_fields = ["paid_for"]
    fields = [
        "receipt_number",
        "paid_for",
        "status",
        "message",
        "amount",
        "convenience_fee",
        "total",
        "refunded",
        "overpaid",
        "payer",
        "billing_email",
        "language",
        "variant",
        "transaction_id",
        "provider_reference",
        "idempotency_key",
        "created",
        "settled_at",
    ]

    @admin.display(description="paid for", ordering="reference")
    def paid_for(self, obj: Payment):
        thing = PAYABLES.get(obj.kind)
        label = f"{obj.kind_label} {obj.reference}"
        if thing is None:
            return label
        # A link by number, not by row: the list reads no record per payment.
        return format_html('<a href="{}">{}</a>', thing.console_list_url(obj.reference), label)

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="billing_payment_refund",
            ),
            path(
                "refunds/<int:pk>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="billing_refund_retry",
            ),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payment = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if payment is not None and "refund_form" not in extra:
            extra.update(
                self._refund_context(
                    request, payment, RefundForm(initial={"amount": payment.refundable})
                )
            )
        return super().change_view(request, object_id, form_url, extra)

    def _refund_context(self, request, payment: Payment, form) -> dict:
        return {
            "refunds": payment.refunds.select_related("requested_by"),
            "refund_form": form,
            "can_refund": request.user.has_perm(REFUND_PERMISSION) and payment.refundable > 0,
            "may_refund": request.user.has_perm(REFUND_PERMISSION),
        }

    def refund_view(self, request, pk: int):
        if request.method != "POST":
            return redirect("admin:billing_payment_change", pk)
        if not request.user.has_perm(REFUND_PERMISSION):
            raise PermissionDenied
        payment = get_object_or_404(Payment, pk=pk)
        form = RefundForm(request.POST)
        if form.is_valid():
            try:
                row = services.refund(
                    payment=payment,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as error:
                for field, problems in (
                    error.message_dict.items()
                    if hasattr(error, "error_dict")
                    else [(None, error.messages)]
                ):
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                if row.status == RefundStatus.SUCCEEDED:
                    messages.success(
                        request,
                        f"Refunded ${row.amount} of {payment.receipt_number} to the card. The "
                        "payer is emailed a receipt, and the refund is on the record's timeline.",
                    )
                else:
                    messages.error(
                        request,
                        f"The provider did not refund it: {row.error} Nothing was recorded as "
                        "refunded; send it again below when the provider answers.",
                    )
                return redirect("admin:billing_payment_change", pk)
        # The form comes back with what was typed and why it was refused, on the payment's page
        # (shown as for a GET: the page itself is read-only).
        page = copy.copy(request)
        page.method = "GET"
        page.POST = QueryDict()
        response = self.change_view(
            page, str(pk), extra_context=self._refund_context(request, payment, form)
        )
        response.status_code = 400
        return response

    def retry_view(self, request, pk: int):
        if request.method != "POST" or not request.user.has_perm(REFUND_PERMISSION):
            raise PermissionDenied
        row = get_object_or_404(Refund, pk=pk)
        try:
            row = services.retry_refund(refund_row=row)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            if row.status == RefundStatus.SUCCEEDED:
                messages.success(request, f"Refunded ${row.amount}.")
            else:
                messages.error(request, f"The provider did not refund it: {row.error}")
        return redirect("admin:billing_payment_change", row.payment_id)


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyList, admin.ModelAdmin):
    list_display = ["day", "provider", "payments", "paid", "refunded", "net", "problems"]
    ordering = ["-day"]
    change_form_template = "admin/billing/reconciliation/change_form.html"
    change_list_template = "admin/billing/reconciliation/change_list.html"
    fields = ["day", "provider", "made_at"]

    @admin.display(description="payments")
    def payments(self, obj):
        return obj.totals.get("payments", 0)

    @admin.display(description="paid ($)")
    def paid(self, obj):
        return obj.totals.get("paid", "0.00")

    @admin.display(description="refunded ($)")
    def refunded(self, obj):
        return obj.totals.get("refunded", "0.00")

    @admin.display(description="net ($)")
    def net(self, obj):
        return obj.totals.get("net", "0.00")

    @admin.display(description="mismatches")
    def problems(self, obj):
        count = len(obj.mismatches)
        return format_html("<strong>⚠ {}</strong>", count) if count else "None"

    def get_urls(self):
        custom = [
            path(
                "<int:pk>/csv/",
                self.admin_site.admin_view(self.csv_view),
                name="billing_reconciliation_csv",
            ),
            path(
                "run/",
                self.admin_site.admin_view(self.run_view),
                name="billing_reconciliation_run",
            ),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if report is not None:
            extra["report"] = report
            extra["kinds"] = [
                (_kind_name(kind), amount)
                for kind, amount in report.totals.get("by_kind", {}).items()
            ]
        return super().change_view(request, object_id, form_url, extra)

    def csv_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = get_object_or_404(Reconciliation, pk=pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="reconciliation-{report.day}.csv"'
        writer = csv.writer(response)
        columns = [
            "type",
            "receipt",
            "paid_for",
            "provider_reference",
            "amount",
            "convenience_fee",
            "total",
            "at",
        ]
        writer.writerow(columns)
        for row in report.rows:
            writer.writerow([safe_cell(row.get(column, "")) for column in columns])
        writer.writerow([])
        writer.writerow(["mismatch", "reference", "ours", "theirs"])
        for problem in report.mismatches:
            writer.writerow(
                [safe_cell(problem[key]) for key in ("problem", "reference", "ours", "theirs")]
            )
        writer.writerow([])
        writer.writerow(["payout", "reference", "amount", "arrival"])
        for payout in report.payouts:
            writer.writerow(
                ["payout", *(safe_cell(payout[key]) for key in ("reference", "amount", "arrival"))]
            )
        return response

    def run_view(self, request):
        """Reconcile a day now (after fixing a mismatch, or for today so far)."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            day = date.fromisoformat(request.POST.get("day", ""))
        except ValueError:
            messages.error(request, "Enter the day as YYYY-MM-DD.")
            return redirect("admin:billing_reconciliation_changelist")
        if day > timezone.localdate() or day < timezone.localdate() - timedelta(days=400):
            messages.error(request, "Choose a day in the last 400 days, not in the future.")
            return redirect("admin:billing_reconciliation_changelist")
        try:
            report = services.reconcile(day)
        except PaymentError as error:
            messages.error(
                request,
                f"The provider did not answer ({error}). Nothing changed; try again later.",
            )
            return redirect("admin:billing_reconciliation_changelist")
        return redirect(reverse("admin:billing_reconciliation_change", args=[report.pk]))


def _kind_name(kind: str) -> str:
    return {"permit": "Permit and licence fees", "fine": "Code enforcement fines"}.get(kind, kind)


@admin.register(Refund)
class RefundAdmin(NoRevert, ReadOnlyList, SimpleHistoryAdmin):
    list_display = ["created_at", "payment", "amount", "status", "reason", "requested_by"]
    list_filter = ["status"]
    search_fields = ["=payment__receipt_number", "=payment__reference", "reason"]
    list_select_related = ["payment", "requested_by"]
    ordering = ["-created_at"]
