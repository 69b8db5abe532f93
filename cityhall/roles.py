"""Staff roles, defined in code and synced to Django groups.

A role is a group whose permissions are exactly the set listed here: changing this file and
migrating is the only way roles change, so every database agrees with the code.
Permissions of apps that do not exist yet are skipped; each migrate re-syncs.
"""

from __future__ import annotations

import logging

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import models
from django.db.models import Q

logger = logging.getLogger(__name__)


class Role(models.TextChoices):
    PERMIT_TECHNICIAN = "permit_technician", "Permit technician"
    PLAN_REVIEWER = "plan_reviewer", "Plan reviewer"
    CODE_INSPECTOR = "code_inspector", "Code inspector"
    CODE_SUPERVISOR = "code_supervisor", "Code enforcement supervisor"
    COMMUNICATIONS_OFFICER = "communications_officer", "Communications officer"
    MANAGER = "manager", "Manager"
    CITY_ADMINISTRATOR = "city_administrator", "City administrator"


def _crud(model: str) -> set[str]:
    app_label, name = model.split(".")
    return {f"{app_label}.{action}_{name}" for action in ("add", "change", "delete", "view")}


_EVERY_STAFF = {"cityhall.view_neighborhood", "alerts.view_alert", "alerts.view_topic"}
_ALERTS_OFFICE = (
    _crud("alerts.topic")
    | {"alerts.add_alert", "alerts.change_alert", "alerts.view_alert", "alerts.publish_alert"}
    | {"alerts.view_subscription", "alerts.change_subscription"}
    | {"alerts.view_notification", "alerts.view_delivery"}
)

_PERMITS_DESK = {
    "permits.view_application",
    "permits.change_application",
    "permits.review_application",
    "permits.view_permittype",
    "permits.view_inspectiontype",
    "permits.view_inspection",
    "permits.view_document",
    "permits.view_payment",
    "permits.view_timelineevent",
}

_CODE_DESK = {
    "code_enforcement.view_servicerequest",
    "code_enforcement.change_servicerequest",
    "code_enforcement.triage_request",
    "code_enforcement.view_servicecategory",
    "code_enforcement.view_codecase",
    "code_enforcement.view_violation",
    "code_enforcement.change_codecase",
    "code_enforcement.manage_case",
    "code_enforcement.view_caseinspection",
    "code_enforcement.view_violationtype",
    "code_enforcement.view_address",
    "code_enforcement.view_department",
}
_CODE_SETUP = (
    _crud("code_enforcement.servicecategory")
    | _crud("code_enforcement.serviceattribute")
    | _crud("code_enforcement.violationtype")
    | _crud("code_enforcement.department")
    | _crud("code_enforcement.apikey")
    | _crud("code_enforcement.address")
)

# Online payments (cityhall/payments): who reads them and the daily reconciliation; refunds
# need permits.refund_payment besides.
_PAYMENTS = {
    "billing.view_payment",
    "billing.view_refund",
    "billing.view_reconciliation",
    "code_enforcement.view_finepayment",
}

# Records retention (cityhall.records): the schedule is the city administrator's; managers
# read it, place legal holds and answer public-records requests with an export.
_RECORDS_OFFICE = {
    "records.view_retentionrule",
    "records.view_disposallog",
    "records.view_legalhold",
    "records.add_legalhold",
    "records.place_legal_hold",
    "records.view_recordsrequest",
    "records.add_recordsrequest",
}

_KPIS = {
    "kpis.view_dashboard",
    "kpis.view_performancesettings",
    "kpis.change_performancesettings",
} | _crud("kpis.target")

ROLE_PERMISSIONS: dict[Role, set[str]] = {
    Role.PERMIT_TECHNICIAN: _EVERY_STAFF
    | {"cityhall.view_user"}
    | _PERMITS_DESK
    | {
        "permits.issue_permit",
        "permits.inspect",
        "permits.change_inspection",
        "permits.add_payment",
    }
    | _PAYMENTS,
    Role.PLAN_REVIEWER: _EVERY_STAFF
    | {"cityhall.view_user"}
    | _PERMITS_DESK
    | {"permits.decide_application", "permits.revoke_permit"},
    Role.CODE_INSPECTOR: _EVERY_STAFF
    | {
        "permits.view_application",
        "permits.view_inspection",
        "permits.change_inspection",
        "permits.inspect",
    }
    | _CODE_DESK
    | {"code_enforcement.change_caseinspection"},
    Role.CODE_SUPERVISOR: _EVERY_STAFF
    | {"cityhall.view_user", "permits.view_application"}
    | _CODE_DESK
    | _CODE_SETUP
    | {"code_enforcement.hide_photo", "code_enforcement.change_caseinspection"}
    | _PAYMENTS,
    Role.COMMUNICATIONS_OFFICER: _EVERY_STAFF | _ALERTS_OFFICE,
    Role.MANAGER: _EVERY_STAFF
    | {"cityhall.view_user", "alerts.view_subscription"}
    | _PERMITS_DESK
    | {"permits.waive_fee", "cityhall.view_holiday"}
    | _PAYMENTS
    | {"permits.refund_payment"}
    | {"code_enforcement.view_servicerequest", "code_enforcement.view_codecase"}
    | {"code_enforcement.view_violation"}
    | {"alerts.view_delivery", "alerts.view_alert", "code_enforcement.view_caseinspection"}
    | _KPIS
    | _RECORDS_OFFICE,
    Role.CITY_ADMINISTRATOR: (
        _crud("cityhall.user")
        | _crud("cityhall.neighborhood")
        | _crud("cityhall.holiday")
        | {"auth.view_group"}
        | _crud("otp_totp.totpdevice")
        | _crud("otp_static.staticdevice")
        | {"axes.view_accessattempt", "axes.delete_accessattempt", "axes.view_accessfailurelog"}
        | {"axes.view_accesslog", "cityhall.view_staffaccess"}
        | _ALERTS_OFFICE
        | {"alerts.delete_subscription"}
        | _PERMITS_DESK
        | _crud("permits.permittype")
        | _crud("permits.inspectiontype")
        | _crud("permits.documentrequirement")
        | _crud("permits.question")
        | {
            "permits.decide_application",
            "permits.issue_permit",
            "permits.revoke_permit",
            "permits.waive_fee",
        }
        | {"permits.inspect", "permits.change_inspection", "permits.add_payment"}
        | _PAYMENTS
        | {"permits.refund_payment"}
        | _CODE_DESK
        | _CODE_SETUP
        | {"code_enforcement.hide_photo", "code_enforcement.change_caseinspection"}
        | _KPIS
        | _RECORDS_OFFICE
        | _crud("records.retentionrule")
    ),
}


# Who an assignee picker offers for each kind of work: the roles that do it, by name. Never
# residents; never managers or administrators, who may act but are not given the work.
ASSIGNABLE: dict[str, tuple[Role, ...]] = {
    "permit_review": (Role.PLAN_REVIEWER,),
    "permit_inspection": (Role.CODE_INSPECTOR,),
    "service_request": (Role.CODE_INSPECTOR, Role.CODE_SUPERVISOR),
    "code_case": (Role.CODE_INSPECTOR,),
}


def role_group_name(role: Role) -> str:
    return role.label


def sync_roles(*, using: str = "default", verbosity: int = 0) -> None:
    from django.contrib.auth.models import Group, Permission

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)

    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role_group_name(role))
        query = Q(pk__in=[])
        for code in codes:
            app_label, codename = code.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        permissions = list(Permission.objects.using(using).filter(query))
        missing = len(codes) - len(permissions)
        if missing and verbosity:
            logger.info("role %s: %d permissions not installed yet", role.label, missing)
        group.permissions.set(permissions)


def sync_roles_after_migrate(sender, using="default", **kwargs):
    # post_migrate fires once per app that has models; syncing on the last of them sees
    # every permission that the migrate created.
    with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if sender.label == with_models[-1].label:
        sync_roles(using=using)
