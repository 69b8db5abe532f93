"""Form rendering for the U.S. Web Design System.

Every form in the project (allauth's included) renders through these templates: an error
summary at the top that takes focus and links to each field, then USWDS form groups.
"""

from __future__ import annotations

from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting

_WIDGET_CLASSES = {
    forms.CheckboxInput: "usa-checkbox__input",
    forms.CheckboxSelectMultiple: "usa-checkbox__input",
    forms.RadioSelect: "usa-radio__input",
    forms.Select: "usa-select",
    forms.SelectMultiple: "usa-select",
    forms.Textarea: "usa-textarea",
    # A plain file input: USWDS's file-input script replaces the label with an English
    # aria-label, which hides the translated label from assistive technology.
    forms.ClearableFileInput: "cityhall-file-input",
    forms.FileInput: "cityhall-file-input",
}


def widget_class(widget: forms.Widget) -> str:
    for widget_type in type(widget).__mro__:
        if widget_type in _WIDGET_CLASSES:
            return _WIDGET_CLASSES[widget_type]
    return "usa-input"


class CityBoundField(BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        css = widget_class(widget)
        if self.errors and css in {"usa-input", "usa-select", "usa-textarea"}:
            css += f" {css}--error"
        existing = widget.attrs.get("class", "")
        attrs["class"] = f"{existing} {css}".strip()
        return attrs


class CityFormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
    bound_field_class = CityBoundField


# --- Console action forms ------------------------------------------------------------------------


class ActionForm(forms.Form):
    """The input of one workflow move in the console. Subclasses may use the record (`obj`) and
    the staff member (`actor`) for choices and initial values."""

    def __init__(self, *args, obj=None, actor=None, **kwargs):
        self.obj, self.actor = obj, actor
        super().__init__(*args, **kwargs)

    def inputs(self) -> dict:
        """The keyword arguments for the move's service (by default, the cleaned fields)."""
        return dict(self.cleaned_data)


class MoneyField(forms.DecimalField):
    """Dollars and cents; accepts "$1,250.00" as typed from a receipt."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("error_messages", {"invalid": "Enter the amount, like 125.00."})
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("$", "").replace(",", "").strip()
        return super().to_python(value)


def staff_choices(work: str, *, keep=None):
    """Active staff holding a role that does `work` (cityhall.roles.ASSIGNABLE), by name; `keep`
    (the person assigned now) stays in the list even if their role changed, so saving the page
    never drops them silently."""
    from django.db.models import Q

    from .models import User
    from .roles import ASSIGNABLE, role_group_name

    groups = [role_group_name(role) for role in ASSIGNABLE[work]]
    chosen = Q(is_active=True, is_staff=True, groups__name__in=groups)
    if keep:
        chosen |= Q(pk=getattr(keep, "pk", keep))
    ids = User.objects.filter(chosen).values("pk")
    return User.objects.filter(pk__in=ids).order_by("first_name", "last_name", "email")


class StaffChoiceField(forms.ModelChoiceField):
    """An assignee picker: the people who do this kind of work, shown by name."""

    def __init__(self, *, work: str, keep=None, **kwargs):
        super().__init__(queryset=staff_choices(work, keep=keep), **kwargs)

    def set_work(self, work: str, *, keep=None) -> None:
        self.queryset = staff_choices(work, keep=keep)

    def label_from_instance(self, obj):
        return obj.display_name


def suggested_assignee(work: str, queue: str):
    """Who to give new work to: of the people who do `work`, the one with the least open work in
    `queue` (a cityhall.queues label), then by name. Two queries; None when nobody does it."""
    from django.db.models import Count

    from .queues import queue_for

    people = list(staff_choices(work))
    if not people:
        return None
    line = queue_for(queue)
    loads = dict(
        line.model._default_manager.filter(line.open, **{f"{line.assignee}__in": people})
        .order_by()
        .values_list(line.assignee)
        .annotate(n=Count("pk"))
    )
    return min(people, key=lambda person: loads.get(person.pk, 0))  # people come by name


# Which queue an assignee picker's work is counted in, for the suggestion.
WORK_QUEUES = {
    "permit_review": "permits.Application",
    "permit_inspection": "permits.Inspection",
    "service_request": "code_enforcement.ServiceRequest",
    "code_case": "code_enforcement.CodeCase",
}


def suggest(field: StaffChoiceField, work: str, current=None) -> None:
    """Preselect the person assigned now, or else the least loaded one (saying so)."""
    if current:
        field.initial = current
        return
    person = suggested_assignee(work, WORK_QUEUES[work])
    if person is not None:
        field.initial = person.pk
        field.help_text = f"Suggested: {person.display_name}, who has the least open work."


def assign_form(work: str, field: str, label: str):
    """The "Assign" move's form: one picker of the people who do `work`, the current one kept
    (or, when nobody has it yet, the least loaded one suggested)."""

    class AssignForm(ActionForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            current = getattr(self.obj, f"{self.current_field}_id", None)
            self.fields[field] = StaffChoiceField(work=work, keep=current, label=label)
            suggest(self.fields[field], work, current)

    AssignForm.current_field = {
        "reviewer": "assigned_reviewer",
        "assignee": "assigned_to",
        "inspector": "inspector",
    }[field]
    return AssignForm


class LabelledFileInput(forms.ClearableFileInput):
    """A file input the admin labels with a real <label for> (Django's default puts it in a
    fieldset whose legend labels nothing, which axe reports)."""

    use_fieldset = False
