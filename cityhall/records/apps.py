from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "cityhall.records"
    label = "records"
    verbose_name = "Records retention"

    def ready(self):
        # The record types of the core (sessions, access logs, history rows); each app
        # registers its own in its AppConfig.ready.
        from . import builtin

        builtin.register_all()
