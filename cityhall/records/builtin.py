"""The core's own record types: sessions, staff access logs and the history rows
(django-simple-history) of every model."""

from __future__ import annotations

from django.apps import apps
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from . import registry
from .registry import ANONYMISE, DELETE, Group, RecordType

# The fields of each model's history rows that hold personal data: "model label" -> fields.
# Apps add theirs with `personal_history_fields`; anonymising a history row blanks them.
HISTORY_PERSONAL_FIELDS: dict[str, dict[str, object]] = {}


def personal_history_fields(model_label: str, **blanks) -> None:
    """`personal_history_fields("alerts.subscription", email="", phone="")`: what each personal
    field of the model's history rows becomes when they are anonymised."""
    HISTORY_PERSONAL_FIELDS.setdefault(model_label.lower(), {}).update(blanks)


class Sessions(RecordType):
    key = "cityhall.session"
    label = _("Sign-in sessions")
    model = Session
    counted_from = _("after the session expires")

    def expired(self, *, status, kinds, before, action) -> QuerySet:
        return Session.objects.filter(expire_date__lt=before)

    def dispose(self, rows, action):
        deleted, _by_model = rows.delete()
        return {"deleted": deleted}


class AccessLogs(RecordType):
    key = "cityhall.staffaccess"
    label = _("Staff access logs")
    counted_from = _("after the access")

    @property
    def model(self):
        return apps.get_model("cityhall", "StaffAccess")

    def expired(self, *, status, kinds, before, action) -> QuerySet:
        return self.model.objects.filter(at__lt=before)

    def held(self, holds):
        query = Q(pk__in=[])
        for references in holds.references.values():
            for reference in references:
                query |= Q(record__icontains=reference)
        for email in holds.emails:
            query |= Q(record__icontains=email)
        for address in holds.addresses:
            query |= Q(record__icontains=address)
        return query

    def dispose(self, rows, action):
        deleted, _by_model = rows.delete()
        return {"deleted": deleted}


def _history_models() -> dict[str, type]:
    """{"permits.application": HistoricalApplication, ...} for every model with history."""
    from simple_history.models import HistoricalChanges

    found = {}
    for model in apps.get_models():
        is_history = issubclass(model, HistoricalChanges) and hasattr(model, "instance_type")
        # (not the history of many-to-many links, which hold no dates and no personal data)
        if is_history and any(field.name == "history_date" for field in model._meta.fields):
            found[model.instance_type._meta.label_lower] = model
    return dict(sorted(found.items()))


class HistoryRows(RecordType):
    key = "cityhall.history"
    label = _("History rows (the audit trail of changes)")
    actions = (DELETE, ANONYMISE)
    counted_from = _("after the change")

    def kinds(self):
        result = []
        for label in _history_models():
            model = apps.get_model(label)
            result.append(Group(label, model._meta.verbose_name_plural))
        return result

    def expired(self, *, status, kinds, before, action) -> list[QuerySet]:
        querysets = []
        for label, history in _history_models().items():
            if kinds is not None and label not in kinds:
                continue
            rows = history.objects.filter(history_date__lt=before)
            if action == ANONYMISE:
                blanks = HISTORY_PERSONAL_FIELDS.get(label)
                if not blanks:
                    continue
                not_blank = Q()
                for name, blank in blanks.items():
                    not_blank |= ~Q(**{name: blank}) & Q(**{f"{name}__isnull": False})
                rows = rows.filter(not_blank)
            querysets.append(rows)
        return querysets

    def held_for(self, queryset, holds):
        """History rows of held records (the record's own type decides which are held)."""
        instance_model = queryset.model.instance_type
        for record_type in registry.RECORD_TYPES.values():
            if record_type.model is instance_model and record_type is not self:
                held = instance_model._default_manager.filter(record_type.held(holds))
                return Q(id__in=held.values("pk"))
        if instance_model._meta.label_lower == "cityhall.user":
            return Q(id__in=holds.user_ids)
        return Q(pk__in=[])

    def dispose(self, rows, action):
        if action == DELETE:
            deleted, _by_model = rows.delete()
            return {"deleted": deleted}
        label = rows.model.instance_type._meta.label_lower
        return {"anonymised": rows.update(**HISTORY_PERSONAL_FIELDS[label])}


def register_all() -> None:
    registry.register(Sessions())
    registry.register(AccessLogs())
    registry.register(HistoryRows())
    personal_history_fields(
        "cityhall.user",
        email="",
        username="",
        first_name="",
        last_name="",
        phone="",
        home_address="",
    )
    personal_history_fields("billing.payment", billing_email="", customer_ip_address=None)
