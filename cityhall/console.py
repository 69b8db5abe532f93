"""The staff console: Django's admin behind a verified second factor."""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models.query import QuerySet
from django.urls import path, reverse
from django.utils.functional import cached_property
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
            path("models/", self.admin_view(self.models_index), name="models_index"),
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

    def index(self, request, extra_context=None):
        """The console home is the staff member's work, not a list of models (cityhall.mywork).
        The list of models stays one click away, at /console/models/."""
        from django.template.response import TemplateResponse

        from .mywork import my_work

        context = {
            **self.each_context(request),
            "title": "My work",
            "subtitle": None,
            "work": my_work(request.user),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, "console/my_work.html", context)

    def models_index(self, request):
        return super().index(request, extra_context={"title": "All records"})

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


def status_queue_filter(open_statuses, *, label: str = "Open work"):
    """The status filter of a work queue: it opens on open work, not on history. "All" and
    each status stay one click away; a link from "My work" (`?work=...`) brings its own rule,
    so the list then shows every status that rule allows."""
    from django.contrib import admin

    open_values = [str(status) for status in open_statuses]

    class StatusQueueFilter(admin.SimpleListFilter):
        title = "status"
        parameter_name = "state"

        def lookups(self, request, model_admin):
            field = model_admin.model._meta.get_field("status")
            return [("open", label), *field.choices, ("all", "All, closed included")]

        def current(self) -> str:
            if self.value():
                return self.value()
            # A link from "My work" (`work`) or from a dashboard number (`kpi`) brings its own
            # rule: every status that rule allows.
            source = self.used_parameters_source
            return "all" if "work" in source or "kpi" in source else "open"

        def __init__(self, request, params, model, model_admin):
            self.used_parameters_source = dict(request.GET)
            super().__init__(request, params, model, model_admin)

        def choices(self, changelist):
            current = self.current()
            for lookup, title in self.lookup_choices:
                yield {
                    "selected": current == str(lookup),
                    "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                    "display": title,
                }

        def queryset(self, request, queryset):
            current = self.current()
            if current == "all":
                return queryset
            if current == "open":
                return queryset.filter(status__in=open_values)
            return queryset.filter(status=current)

    return StatusQueueFilter


def bulk_assign(model_admin, request, queryset):
    """The "Assign to…" list action: choose a person (only those who do this work, by name)
    on a page of its own, then every selected record is assigned through its service.
    The admin calls `model_admin.assign(request, obj, person)`; `assign_work` names the work."""
    from django import forms
    from django.contrib import messages
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.template.response import TemplateResponse

    from .forms import StaffChoiceField

    class AssignForm(forms.Form):
        person = StaffChoiceField(work=model_admin.assign_work, label="Assign to")

    form = AssignForm(request.POST if request.POST.get("confirmed") == "yes" else None)
    if form.is_bound and form.is_valid():
        person = form.cleaned_data["person"]
        count = 0
        for obj in queryset:
            model_admin.assign(request, obj, person)
            count += 1
        messages.success(request, f"{count} assigned to {person.display_name}.")
        return None  # back to the list, its filters kept
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Assign {queryset.count()} {model_admin.opts.verbose_name_plural}",
        "form": form,
        "records": queryset[:100],
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "action": request.POST.get("action", ""),
        "select_across": request.POST.get("select_across", "0"),
        "checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "console/bulk_assign.html", context)


def _target(move, inputs: dict) -> dict:
    """The target status a move's input chose, for `Workflow.check` (moves with several)."""
    if len(move.targets) > 1 and "target" in inputs:
        return {"target": inputs["target"]}
    return {}


ONCE_TOKENS = "console-once"


def issue_once_token(request) -> str:
    """A token for one action form; a second post of the same form finds it spent."""
    import secrets

    token = secrets.token_urlsafe(12)
    tokens = request.session.get(ONCE_TOKENS, [])[-199:]
    tokens.append(token)
    request.session[ONCE_TOKENS] = tokens
    return token


def once_token_valid(request, token: str) -> bool:
    return token in request.session.get(ONCE_TOKENS, [])


def spend_once_token(request, token: str) -> None:
    if token:
        request.session[ONCE_TOKENS] = [
            t for t in request.session.get(ONCE_TOKENS, []) if t != token
        ]


class AssigneePickers:
    """Assignee selects that list only the people who do the work (cityhall.roles.ASSIGNABLE),
    by name: `assignee_fields = {"assigned_to": "service_request"}`."""

    assignee_fields: dict[str, str] = {}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        work = self.assignee_fields.get(db_field.name)
        if work is None:
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        from .forms import StaffChoiceField

        match = request.resolver_match
        object_id = match.kwargs.get("object_id") if match else None
        keep = None
        if object_id and str(object_id).isdigit():
            keep = (
                self.model._default_manager.filter(pk=object_id)
                .values_list(db_field.attname, flat=True)
                .first()
            )
        return StaffChoiceField(
            work=work,
            keep=keep,
            required=not db_field.blank,
            label=db_field.verbose_name.capitalize(),
        )


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
        """The forms for the console's action bar, one per move offered now. Each carries a
        single-use token (a double click makes one move) and the status it was shown in (a
        move on a record someone else moved meanwhile is refused, with the fresh state)."""
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
                    "once": issue_once_token(request),
                    "seen": getattr(obj, "status", ""),
                    "url": reverse(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_act",
                        args=[obj.pk, move.name],
                    ),
                }
            )
        return actions

    # What the page shows of a resident (None: nothing personal), for the access log.
    personal_data = None

    def _list_key(self) -> str:
        return f"console-list:{self.opts.label_lower}"

    def changelist_view(self, request, extra_context=None):
        """Remember the rows of the list just shown, for previous/next on the record pages."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            shown = {
                "ids": [row.pk for row in changelist.result_list],  # the page's own query
                "query": request.GET.urlencode(),
            }
            if request.session.get(self._list_key()) != shown:  # no session write per view
                request.session[self._list_key()] = shown
        return response

    def list_navigation(self, request, obj) -> dict | None:
        """Previous and next record of the list the staff member came from (same filters)."""
        from django.contrib.admin.templatetags.admin_urls import add_preserved_filters

        remembered = request.session.get(self._list_key())
        if not remembered or obj.pk not in remembered["ids"]:
            return None
        ids = remembered["ids"]
        at = ids.index(obj.pk)
        context = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}

        def link(pk):
            return add_preserved_filters(context, self._change_url(pk))

        listing = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return {
            "position": at + 1,
            "count": len(ids),
            "previous": link(ids[at - 1]) if at > 0 else None,
            "next": link(ids[at + 1]) if at + 1 < len(ids) else None,
            "list": f"{listing}?{remembered['query']}" if remembered["query"] else listing,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["list_nav"] = self.list_navigation(request, obj)
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
        from django.http import Http404
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
        once = request.POST.get("once", "")
        if once and not once_token_valid(request, once):
            # The same form sent twice (a double click, the back button): it counted once.
            messages.info(request, f"{move.label}: that was already done. This is the record now.")
            return self._go(request, change_url, change_url)
        seen = request.POST.get("seen", "")
        status = getattr(obj, "status", "")
        if seen and move.targets and seen != status:
            messages.warning(
                request,
                f"{obj} changed after this page was opened (in another tab, or by someone "
                f"else): it is now {obj.get_status_display()}. Nothing was done; check the "
                "record and choose again.",
            )
            return self._go(request, change_url, change_url)
        if move.asks_fresh_code and not recently_verified(request):
            # Kept for the page that comes back: nothing typed is lost on the way.
            self._keep(request, obj, action)
            messages.warning(
                request,
                f"{move.label} was not done yet: it needs a fresh code. Check what you typed "
                "and confirm again.",
            )
            return self._go(request, reverify_redirect(request, back=change_url).url, change_url)
        inputs = {}
        form_class = move.form_class
        form = None
        if form_class is not None:
            form = form_class(request.POST, request.FILES, obj=obj, actor=request.user)
            if not form.is_valid():
                self._keep(request, obj, action)
                messages.error(request, f"{move.label}: please correct the errors below.")
                return self._go(request, change_url, change_url)
            inputs = form.inputs()
        if move.confirm and request.POST.get("confirmed") != "yes":
            try:  # never ask "are you sure?" about a move that is not possible now
                self.workflow.check(obj, action, request.user, **_target(move, inputs))
            except TransitionNotAllowed as error:
                messages.error(request, str(error))
                return self._go(request, change_url, change_url)
            return self._confirm_page(request, obj, move, form)
        try:
            result = self.workflow.perform(action, obj, actor=request.user, **inputs)
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return self._go(request, change_url, change_url)
        except ValidationError as error:
            errors = list(error.messages)
            self._keep(request, obj, action)
            for message in errors:
                messages.error(request, message)
            return self._go(request, change_url, change_url)
        spend_once_token(request, once)
        target = self.action_done(request, obj, move, result)
        if not target:
            fresh = self.model._default_manager.get(pk=pk)
            now = getattr(fresh, "status", "")
            if move.targets or now != status:  # a payment that also issued the permit, say
                done = "" if move.targets else f"{move.label}: done. "
                messages.success(request, f"{done}{fresh} is now {fresh.get_status_display()}.")
            else:
                messages.success(request, f"{move.label}: done.")
        return self._go(request, target or change_url, change_url)

    def _go(self, request, url: str, change_url: str):
        """Where the action leads. From the action bar's background post (htmx), the record's
        own page comes back to be swapped in; any other page (the case just opened, the
        notice letter, the code prompt) is a full navigation, so the address bar stays true."""
        from django.http import HttpResponse, HttpResponseRedirect

        if request.headers.get("HX-Request") and url != change_url:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)

    def _confirm_page(self, request, obj, move, form):
        """ "Are you sure?" on a page of its own: what will happen, what was typed, and the same
        post again with `confirmed=yes` (no JavaScript needed)."""
        from django.template.response import TemplateResponse

        typed = []
        if form is not None:
            for name, field in form.fields.items():
                if field.widget.is_hidden:
                    continue
                bound = form[name]
                value = form.cleaned_data.get(name)
                if hasattr(field, "choices") and not hasattr(field, "queryset"):
                    value = dict(field.choices).get(bound.value(), value)
                elif hasattr(field, "label_from_instance") and value is not None:
                    value = field.label_from_instance(value)
                typed.append((field.label, value))
        hidden = [
            (key, value)
            for key in request.POST
            if key not in ("csrfmiddlewaretoken", "confirmed")
            for value in request.POST.getlist(key)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{move.label}: are you sure?",
            "subtitle": str(obj),
            "object": obj,
            "move": move,
            "consequence": move.consequence(obj),
            "typed": typed,
            "hidden": hidden,
            "change_url": self._change_url(obj.pk),
            # Explicit: shown in place by htmx, the page's address is still the record's.
            "act_url": request.path,
        }
        return TemplateResponse(request, "console/confirm_move.html", context)

    def _keep(self, request, obj, action) -> None:
        """Keep what was typed for the page that comes back (a failed form loses nothing)."""
        data = {
            key: request.POST.getlist(key) for key in request.POST if key != "csrfmiddlewaretoken"
        }
        flat = {key: values[0] if len(values) == 1 else values for key, values in data.items()}
        request.session[self._session_key(obj.pk)] = {"move": action, "data": flat}


# --- Lists of a city's size ----------------------------------------------------------------------


def staff_list_filter():
    """A person filter (assignee, reviewer, inspector) that lists staff accounts: one query over
    the few staff, never a SELECT DISTINCT over a million rows (RelatedOnlyFieldListFilter)."""
    from django.contrib import admin

    from .models import User

    class StaffListFilter(admin.RelatedFieldListFilter):
        def field_choices(self, field, request, model_admin):
            people = User.objects.filter(is_staff=True).order_by("first_name", "last_name", "pk")
            return [(person.pk, person.display_name) for person in people]

    return StaffListFilter


class EstimatedCountPaginator(Paginator):
    """For console lists of a city's size: counts exactly up to EXACT_UP_TO rows (a bounded
    count, cheap), and beyond that takes PostgreSQL's estimate for the same query instead of
    counting a million rows on every page."""

    EXACT_UP_TO = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return len(rows)
        rows = rows.order_by()
        exact = rows[: self.EXACT_UP_TO + 1].count()
        if exact <= self.EXACT_UP_TO:
            return exact
        sql, params = rows.query.sql_with_params()
        with connections[rows.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return max(int(plan[0]["Plan"]["Plan Rows"]), exact)


class ReadOnlyList:
    """A console list that is a record of what happened (access logs, payments, violations): it
    is read and searched here, written only by the services that record it. Staff see it
    with the model's view permission; nobody adds, changes or deletes rows by hand. A city's
    size: estimated counts past 10,000 rows, no second count of every row."""

    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- The records behind a number ---------------------------------------------------------------
# The KPI dashboard links each number to the console list of exactly the records behind it:
# `?kpi=<metric>&kpi_from=…&kpi_to=…[&kpi_dim=…&kpi_value=…][&kpi_part=numerator]`. The console
# does not know the metrics (no app imports kpis): kpis registers how to find the records.

RECORD_SOURCES: dict = {}


def register_record_source(resolve) -> None:
    """`resolve(model, params) -> (queryset of model's rows, description)`; raises ValueError for
    parameters that name no records of this model."""
    RECORD_SOURCES["kpi"] = resolve


def records_behind_filter():
    from django.contrib import admin
    from django.contrib.admin.options import IncorrectLookupParameters

    class RecordsBehindFilter(admin.ListFilter):
        title = "behind a dashboard number"
        parameters = ("kpi", "kpi_from", "kpi_to", "kpi_dim", "kpi_value", "kpi_part")

        def __init__(self, request, params, model, model_admin):
            super().__init__(request, params, model, model_admin)
            for name in self.parameters:
                if name in params:
                    self.used_parameters[name] = params.pop(name)[-1]
            self.description = ""
            self.records = None
            if self.used_parameters and "kpi" in RECORD_SOURCES:
                try:
                    self.records, self.description = RECORD_SOURCES["kpi"](
                        model, self.used_parameters
                    )
                except ValueError as error:
                    raise IncorrectLookupParameters(str(error)) from None

        @property
        def records_description(self) -> str:
            return self.description if self.records is not None else ""

        def has_output(self) -> bool:
            return self.records is not None

        def expected_parameters(self):
            return list(self.parameters)

        def choices(self, changelist):
            yield {
                "selected": True,
                "query_string": changelist.get_query_string(),
                "display": self.description,
            }
            yield {
                "selected": False,
                "query_string": changelist.get_query_string(remove=list(self.parameters)),
                "display": "All records (leave the dashboard's selection)",
            }

        def queryset(self, request, queryset):
            if self.records is None:
                return queryset
            return queryset.filter(pk__in=self.records.values("pk"))

    return RecordsBehindFilter


class NoRevert:
    """History pages only show what changed: nothing is changed by posting an old version back
    (django-simple-history's "revert" would bypass workflows, permissions and reasons)."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
