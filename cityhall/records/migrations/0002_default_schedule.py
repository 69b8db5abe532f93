from django.db import migrations

# The schedule a new city starts with, as it stood when this migration was written (the
# README's "Records retention" table explains each). Later changes are made in the console.
RULES = [
    ("permits.application", "draft", "", 1, "years", "delete"),
    ("permits.application", "refused", "", 2, "years", "anonymise"),
    ("permits.application", "ended", "", 0, "years", "keep"),
    ("permits.document", "", "", 0, "years", "keep"),
    ("code_enforcement.servicerequest", "", "", 2, "years", "anonymise"),
    ("code_enforcement.requestphoto", "", "", 2, "years", "delete"),
    ("code_enforcement.codecase", "", "", 5, "years", "anonymise"),
    ("alerts.subscription", "unconfirmed", "", 30, "days", "delete"),
    ("alerts.subscription", "cancelled", "", 4, "years", "delete"),
    ("alerts.notification", "", "", 2, "years", "delete"),
    ("alerts.delivery", "", "", 90, "days", "anonymise"),
    ("cityhall.history", "", "", 2, "years", "anonymise"),
    ("cityhall.session", "", "", 0, "days", "delete"),
    ("cityhall.staffaccess", "", "", 3, "years", "delete"),
]


def create(apps, schema_editor):
    from cityhall.records.defaults import DEFAULT_RULES

    reasons = {(r[0], r[1], r[2]): r[6] for r in DEFAULT_RULES}
    RetentionRule = apps.get_model("records", "RetentionRule")
    for record_type, status, kind, period, unit, action in RULES:
        RetentionRule.objects.get_or_create(
            record_type=record_type,
            status=status,
            kind=kind,
            defaults={
                "period": period,
                "unit": unit,
                "action": action,
                "reason": reasons.get((record_type, status, kind), ""),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
