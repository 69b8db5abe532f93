# Permit numbers now come from cityhall's one numbering helper: the sequences move there.

from django.db import migrations


def move_sequences(apps, schema_editor):
    Old = apps.get_model("permits", "NumberSequence")
    Shared = apps.get_model("cityhall", "NumberSequence")
    for old in Old.objects.select_related("permit_type"):
        key = f"permit:{old.permit_type.code}:{old.year}"
        shared, _created = Shared.objects.get_or_create(key=key)
        if shared.last < old.last:
            shared.last = old.last
            shared.save(update_fields=["last"])


class Migration(migrations.Migration):
    dependencies = [
        ("permits", "0003_one_timeline_shape"),
        ("cityhall", "0004_numbersequence"),
    ]

    operations = [
        migrations.RunPython(move_sequences, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="numbersequence",
            name="one_sequence_per_type_year",
        ),
        migrations.DeleteModel(
            name="NumberSequence",
        ),
    ]
