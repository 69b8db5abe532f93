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
            path("invite/<str:token>/", console_views.invite, name="staff_invite"),
        ]
        return custom + super().get_urls()

    def admin_view(self, view, cacheable=False):
        """Every console page; a sensitive change (a deletion, a second-factor device) asks for
        a fresh code first when the last one is more than 15 minutes old."""
        from functools import wraps

        guarded = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request, *args, **kwargs):
            back = _sensitive_post(request)
            user = request.user
            if (
                back is not None
                and user.is_active
                and user.is_staff
                and getattr(user, "is_verified", lambda: False)()
                and not recently_verified(request)
            ):
                return reverify_redirect(request, back=back)
            return guarded(request, *args, **kwargs)

        return inner

    def login(self, request, extra_context=None):
        from . import console_views

        return console_views.password_step(request, site=self, extra_context=extra_context)

    def each_context(self, request):
        from django.conf import settings

        from .phones import sms_budget_used

        context = super().each_context(request)
        context["enrol_url"] = reverse("admin:otp_enrol")
        # Near the day's SMS budget: say so on every console page (SMS pumping shows here).
        used, budget = sms_budget_used(), settings.SMS_DAILY_BUDGET
        if used >= 0.8 * budget:
            context["sms_budget_warning"] = (
                f"Text messages today: {used} of the daily budget of {budget}. Past the budget, "
                "only severe and extreme alerts are texted; everything else waits for tomorrow."
            )
        return context


REVERIFY_AFTER_SECONDS = 15 * 60
VERIFIED_AT = "otp_verified_at"


def mark_verified(request) -> None:
    """The second factor was just checked (sign-in or re-verification)."""
    import time

    request.session[VERIFIED_AT] = int(time.time())


def recently_verified(request) -> bool:
    import time

    return time.time() - request.session.get(VERIFIED_AT, 0) <= REVERIFY_AFTER_SECONDS


def reverify_redirect(request, back: str | None = None):
    """Ask for the code again before a sensitive action, then come back (to `back`, or to this
    page: a GET of it shows the form or the confirmation again; nothing was done yet)."""
    from urllib.parse import urlencode

    from django.http import HttpResponseRedirect

    query = urlencode({"again": "1", "next": back or request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('admin:otp_verify')}?{query}")


# The console apps whose every change is sensitive: the second-factor devices themselves.
DEVICE_APPS = ("otp_totp", "otp_static", "otp_email")


def _sensitive_post(request) -> str | None:
    """Where to come back to if this POST is a sensitive change, or None if it is not one."""
    if request.method != "POST":
        return None
    path = request.path
    if path.endswith("/delete/"):
        return request.get_full_path()  # the "Are you sure?" page again
    if request.POST.get("action") == "delete_selected" and request.POST.get("post"):
        return request.get_full_path()  # the list; the rows are chosen again
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[1] in DEVICE_APPS:
        return request.get_full_path()
    return None


class WorkflowActions:
    """Console buttons and action forms generated from a workflow table (`moves_for`).

    Each move the staff member may make now is a form posting to `<pk>/act/<move>/`; its input
    is cleaned by the move's form and handed to the move's service (`Workflow.perform`). A form
    that fails (its own validation, or the service's) comes back with what was typed and the
    errors; a refusal by the table comes back as a message. `action_done` may send the person
    somewhere else afterwards (the case just opened, the notice letter).
    """

    workflow = None  # a cityhall.workflow.Workflow

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_act"
        return [
            path(
                "<int:pk>/act/<str:action>/", self.admin_site.admin_view(self.act_view), name=name
            ),
            *super().get_urls(),
        ]

    def _change_url(self, pk) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])

    def _session_key(self, pk) -> str:
        return f"console-action:{self.opts.label_lower}:{pk}"

    def workflow_actions(self, request, obj) -> list[dict]:
        """The forms for the console's action bar, one per move offered now."""
        kept = request.session.pop(self._session_key(obj.pk), None)
        actions = []
        for move in self.workflow.moves_for(request.user, obj):
            form_class = move.form_class
            form = None
            if form_class is not None:
                options = {"obj": obj, "actor": request.user, "auto_id": f"id_{move.name}_%s"}
                if kept and kept.get("move") == move.name:
                    form = form_class(kept["data"], **options)
                    form.is_valid()  # shows each field's error beside what was typed
                else:
                    form = form_class(**options)
            actions.append(
                {
                    "move": move,
                    "form": form,
                    "url": reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_act",
                        args=[obj.pk, move.name],
                    ),
                }
            )
        return actions

    # What the page shows of a resident (None: nothing personal), for the access log.
    personal_data = None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["workflow_actions"] = self.workflow_actions(request, obj)
            if self.personal_data:
                from .access import log_access

                log_access(request, what=self.personal_data, record=obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def action_done(self, request, obj, move, result) -> str | None:
        """Where to go after a move (None: back to the record's page)."""
        return None

    def act_view(self, request, pk, action):
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied, ValidationError
        from django.http import Http404, HttpResponseRedirect
        from django.shortcuts import get_object_or_404

        from .workflow import TransitionNotAllowed

        if request.method != "POST":
            raise PermissionDenied
        # Through the admin's own queryset: what the console does not show (a permit draft,
        # say) cannot be acted on either.
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        move = self.workflow.moves.get(action)
        if move is None or action not in self.workflow.handlers:
            raise Http404
        if not (request.user.is_staff and request.user.has_perm(move.who or "-")):
            raise PermissionDenied
        change_url = self._change_url(pk)
        if move.asks_fresh_code and not recently_verified(request):
            # Kept for the page that comes back: nothing typed is lost on the way.
            self._keep(request, obj, action)
            messages.warning(
                request,
                f"{move.label} was not done yet: it needs a fresh code. Check what you typed "
                "and confirm again.",
            )
            return reverify_redirect(request, back=change_url)
        inputs = {}
        form_class = move.form_class
        if form_class is not None:
            form = form_class(request.POST, obj=obj, actor=request.user)
            if not form.is_valid():
                self._keep(request, obj, action)
                messages.error(request, f"{move.label}: please correct the errors below.")
                return HttpResponseRedirect(change_url)
            inputs = form.inputs()
        try:
            result = self.workflow.perform(action, obj, actor=request.user, **inputs)
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(change_url)
        except ValidationError as error:
            errors = list(error.messages)
            self._keep(request, obj, action)
            for message in errors:
                messages.error(request, message)
            return HttpResponseRedirect(change_url)
        target = self.action_done(request, obj, move, result)
        if not target:
            if move.targets:
                fresh = self.model._default_manager.get(pk=pk)
                messages.success(request, f"{fresh} is now {fresh.get_status_display()}.")
            else:
                messages.success(request, f"{move.label}: done.")
        return HttpResponseRedirect(target or change_url)

    def _keep(self, request, obj, action) -> None:
        """Keep what was typed for the page that comes back (a failed form loses nothing)."""
        data = {
            key: request.POST.getlist(key) for key in request.POST if key != "csrfmiddlewaretoken"
        }
        flat = {key: values[0] if len(values) == 1 else values for key, values in data.items()}
        request.session[self._session_key(obj.pk)] = {"move": action, "data": flat}
