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
