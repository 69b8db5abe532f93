from django.core.management.base import BaseCommand

from cityhall.demo import demo_load


class Command(BaseCommand):
    help = "Load the City of Riverbend demo data. Running it again changes nothing."

    def handle(self, *args, **options):
        created = demo_load()
        summary = ", ".join(f"{count} {name}" for name, count in created.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded (new: {summary})."))
