# Existing permit types get a BLDS mapping from their name; officers adjust it in the console.

from django.db import migrations

# (words in the English name, PermitTypeMapped); the first match wins.
BY_NAME = [
    (("electric",), "Electrical"),
    (("plumb",), "Plumbing"),
    (("mechanic", "hvac"), "Mechanical"),
    (("demoli",), "Demolition"),
    (("roof",), "Roof"),
    (("fence",), "Fence"),
    (("grading",), "Grading"),
    (("pool", "spa"), "Pool/Spa"),
    (("event", "film"), ""),  # permits, but not building permits
]


def map_types(apps, schema_editor):
    PermitType = apps.get_model("permits", "PermitType")
    for permit_type in PermitType.objects.all():
        name = permit_type.name_en.lower()
        if permit_type.kind != "permit":
            mapped = ""
        else:
            mapped = next(
                (value for words, value in BY_NAME if any(w in name for w in words)), "Building"
            )
        permit_type.blds_type = mapped
        if "sign" in name or "commercial" in name:
            permit_type.blds_class = "Non-Residential"
        if "new" in name:
            permit_type.blds_work_class = "New"
        permit_type.save(update_fields=["blds_type", "blds_class", "blds_work_class"])


class Migration(migrations.Migration):
    dependencies = [("permits", "0005_blds_mapping_and_fields")]

    operations = [migrations.RunPython(map_types, migrations.RunPython.noop)]
