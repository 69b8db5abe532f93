from django.db import migrations


def create(apps, schema_editor):
    # The defaults of cityhall/records/defaults.py (the README's "Records retention" table
    # explains each); later changes are made in the console.
    from cityhall.records.defaults import create_default_rules

    create_default_rules(
        apps.get_model("records", "RetentionRule"),
        apps.get_model("records", "HistoricalRetentionRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
