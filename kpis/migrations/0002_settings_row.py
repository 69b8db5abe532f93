from django.db import migrations


def create(apps, schema_editor):
    PerformanceSettings = apps.get_model("kpis", "PerformanceSettings")
    PerformanceSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("kpis", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
