from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cityhall.demo import demo_load


class Command(BaseCommand):
    help = "Load the City of Riverbend demo data. Running it again changes nothing."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "Demo data is never loaded under production settings: its accounts share one "
                "published password."
            )
        # Each app may ship `<app>/demo.py` with `demo_load()`; cityhall imports no app, so it
        # finds them by name, in INSTALLED_APPS order (alerts before the apps that notify).
        created = demo_load()
        for app_config in apps.get_app_configs():
            if app_config.name == "cityhall" or not app_config.name.isidentifier():
                continue
            try:
                module = import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name == f"{app_config.name}.demo":
                    continue
                raise
            created.update(module.demo_load())
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (new: {summary})."))
