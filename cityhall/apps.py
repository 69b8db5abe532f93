from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """The Django admin, served as the two-factor staff console."""

    default = False
    default_site = "cityhall.console.ConsoleSite"


class CityHallConfig(AppConfig):
    default = True
    name = "cityhall"
    verbose_name = "City Hall"

    def ready(self):
        from . import passwords, roles  # noqa: F401 (passwords registers its deploy check)

        # Apps added later bring new permissions; keep the groups in step on every migrate.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="cityhall-sync-roles")
