from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cityhall.console import NoRevert

from .metrics import METRICS, REGISTRY
from .models import PerformanceSettings, Target


class TargetForm(forms.ModelForm):
    metric = forms.ChoiceField(choices=[(m.key, m.name_en) for m in METRICS])

    class Meta:
        model = Target
        fields = ["metric", "dimension", "value", "target"]


@admin.register(Target)
class TargetAdmin(NoRevert, SimpleHistoryAdmin):
    form = TargetForm
    list_display = ["metric_name", "dimension", "value", "target", "set_by", "updated_at"]
    list_filter = ["metric"]

    @admin.display(description="metric")
    def metric_name(self, obj):
        metric = REGISTRY.get(obj.metric)
        return metric.name_en if metric else obj.metric

    def save_model(self, request, obj, form, change):
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


class SettingsForm(forms.ModelForm):
    public_metrics = forms.MultipleChoiceField(
        choices=[(m.key, m.name_en) for m in METRICS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = PerformanceSettings
        fields = ["households", "public_metrics"]


@admin.register(PerformanceSettings)
class PerformanceSettingsAdmin(NoRevert, SimpleHistoryAdmin):
    form = SettingsForm
    list_display = ["__str__", "households"]

    def has_add_permission(self, request):
        # The one row is made by a migration; asking the database here would cost a query on
        # every console page (the sidebar asks every model).
        return False

    def has_delete_permission(self, request, obj=None):
        return False
