# Case numbers now come from cityhall's one numbering helper: seed it with the numbers in use.

from django.db import migrations


def seed_sequences(apps, schema_editor):
    CodeCase = apps.get_model("code_enforcement", "CodeCase")
    Shared = apps.get_model("cityhall", "NumberSequence")
    last_by_year: dict[str, int] = {}
    for number in CodeCase.objects.values_list("number", flat=True).iterator():
        _prefix, year, n = number.split("-")
        last_by_year[year] = max(last_by_year.get(year, 0), int(n))
    for year, last in last_by_year.items():
        shared, _created = Shared.objects.get_or_create(key=f"case:{year}")
        if shared.last < last:
            shared.last = last
            shared.save(update_fields=["last"])


class Migration(migrations.Migration):
    dependencies = [
        ("code_enforcement", "0002_one_timeline_shape"),
        ("cityhall", "0004_numbersequence"),
    ]

    operations = [migrations.RunPython(seed_sequences, migrations.RunPython.noop)]
