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


class WorkflowActions:
    """Console buttons for a workflow: each posts to `<pk>/act/<action>/`.

    The model admin implements `perform_action(request, obj, action)`, which calls a service
    and may return a URL to go to; refusals and validation errors become messages, and the
    page comes back. `action_permission(action)` names the permission an action needs.
    """

    def get_urls(self):
        from django.urls import path

        name = f"{self.opts.app_label}_{self.opts.model_name}_act"
        return [
            path(
                "<int:pk>/act/<str:action>/", self.admin_site.admin_view(self.act_view), name=name
            ),
            *super().get_urls(),
        ]

    def action_permission(self, action: str) -> str | None:
        return None

    def act_view(self, request, pk, action):
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied, ValidationError
        from django.http import HttpResponseRedirect
        from django.shortcuts import get_object_or_404
        from django.urls import reverse

        from .workflow import TransitionNotAllowed

        if request.method != "POST":
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=pk)
        needed = self.action_permission(action)
        if needed and not request.user.has_perm(needed):
            raise PermissionDenied
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk]
        )
        try:
            target = self.perform_action(request, obj, action)
        except (TransitionNotAllowed, ValidationError) as error:
            for message in getattr(error, "messages", [str(error)]):
                messages.error(request, message)
            return HttpResponseRedirect(change_url)
        if not (isinstance(target, str) and target):
            messages.success(request, "Done.")
        return HttpResponseRedirect(target if isinstance(target, str) and target else change_url)
