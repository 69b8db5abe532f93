"""The staff console: Django's admin behind a verified second factor."""

from django.urls import path, reverse
from django_otp.admin import OTPAdminSite


class ConsoleSite(OTPAdminSite):
    site_header = "City Hall console"
    site_title = "City Hall console"
    index_title = "Work queues and settings"
    login_template = "console/login.html"

    def get_urls(self):
        from . import console_views

        custom = [
            path("verify/", console_views.verify, name="otp_verify"),
            path("enrol/", console_views.enrol, name="otp_enrol"),
            path("backup-codes/", console_views.backup_codes, name="otp_backup_codes"),
        ]
        return custom + super().get_urls()

    def login(self, request, extra_context=None):
        from . import console_views

        return console_views.password_step(request, site=self, extra_context=extra_context)

    def each_context(self, request):
        context = super().each_context(request)
        context["enrol_url"] = reverse("admin:otp_enrol")
        return context
