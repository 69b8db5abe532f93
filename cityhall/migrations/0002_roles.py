from django.db import migrations


def sync(apps, schema_editor):
    # Roles are defined in code (cityhall/roles.py); a fresh database gets them here and
    # every later migrate re-syncs them (post_migrate), as apps add permissions.
    from cityhall.roles import sync_roles

    sync_roles(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("cityhall", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
