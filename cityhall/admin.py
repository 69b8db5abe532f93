from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .access import log_access
from .console import (
    EstimatedCountPaginator,
    NoRevert,
    ReadOnlyList,
    recently_verified,
    reverify_redirect,
    staff_list_filter,
)
from .models import Holiday, Neighborhood, StaffAccess, User


@admin.register(Holiday)
class HolidayAdmin(NoRevert, SimpleHistoryAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


@admin.register(User)
class CityUserAdmin(SimpleHistoryAdmin, UserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "preferred_language",
        "is_active",
    ]
    list_filter = ["is_staff", "is_active", "groups", "preferred_language"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    list_per_page = 50
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "username", "password"]}),
        (
            _("Personal details"),
            {"fields": ["first_name", "last_name", "phone", "home_address", "neighborhood"]},
        ),
        (_("Preferences"), {"fields": ["preferred_language", "notify_by_email", "notify_by_sms"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "username", "password1", "password2"]}),
    ]

    actions = ["send_invitation"]

    @admin.action(description="Send an invitation (choose a password, enrol an app)")
    def send_invitation(self, request, queryset):
        from django.contrib import messages

        from .staff import invitation_send

        sent = [user.email for user in queryset.filter(is_staff=True, is_active=True)]
        for user in queryset.filter(is_staff=True, is_active=True):
            user.set_unusable_password()  # the old password stops working; the link sets one
            user.save(update_fields=["password"])
            invitation_send(user)
        messages.success(
            request, f"Invitations sent to: {', '.join(sent) or 'nobody (no staff selected)'}."
        )

    # Only a superuser makes another superuser; a city administrator cannot.
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")
        return fields

    # Changing a staff member's password or access is sensitive: it asks for a fresh second
    # factor when the last one is more than 15 minutes old.
    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, id)
        if (
            request.method == "POST"
            and target is not None
            and target.is_staff
            and target.pk != request.user.pk
            and not recently_verified(request)
        ):
            return reverify_redirect(request)
        return super().user_change_password(request, id, form_url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        target = self.get_object(request, object_id)
        if target is not None and not target.is_staff:
            log_access(request, what="resident profile", record=target)
        changes_access = any(
            name in request.POST for name in ("is_staff", "is_superuser", "groups")
        ) or (target is not None and target.is_staff)
        if (
            request.method == "POST"
            and target is not None
            and changes_access
            and target.pk != request.user.pk
            and not recently_verified(request)
        ):
            return reverify_redirect(request)
        return super().change_view(request, object_id, form_url, extra_context)

    # Plain checkboxes: Django's filter_horizontal widget fails axe (aria on a span).
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        from django import forms

        kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Neighborhood)
class NeighborhoodAdmin(NoRevert, SimpleHistoryAdmin):
    list_display = ["name", "slug", "households"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyList, admin.ModelAdmin):
    """Read-only, searchable: who opened whose personal data, and when."""

    list_display = ["at", "staff", "what", "record", "ip"]
    list_filter = ["what", ("staff", staff_list_filter())]
    search_fields = ["staff__email", "record", "what", "path"]
    date_hierarchy = "at"
    list_select_related = ["staff"]
    list_per_page = 100
    paginator = EstimatedCountPaginator
