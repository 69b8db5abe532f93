from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Holiday, Neighborhood, User


@admin.register(Holiday)
class HolidayAdmin(SimpleHistoryAdmin):
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

    # Plain checkboxes: Django's filter_horizontal widget fails axe (aria on a span).
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        from django import forms

        kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Neighborhood)
class NeighborhoodAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "households"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
