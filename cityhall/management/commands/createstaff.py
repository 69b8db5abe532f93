import secrets

from django.core.management.base import BaseCommand, CommandError

from cityhall.roles import Role
from cityhall.staff import issue_backup_codes, staff_create


class Command(BaseCommand):
    help = (
        "Create a staff account with a role, e.g. the first city administrator. Prints a "
        "password (unless given) and ten one-time backup codes for the first console sign-in; "
        "the person then enrols an authenticator app at /console/enrol/."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", help="Default: a random one, printed once.")
        parser.add_argument("--superuser", action="store_true", help="Every permission.")

    def handle(self, *args, **options):
        password = options["password"] or secrets.token_urlsafe(12)
        if len(password) < 8:
            raise CommandError("The password must have at least 8 characters.")
        user, created = staff_create(
            email=options["email"],
            role=Role(options["role"]),
            password=password,
            first_name=options["first_name"],
            last_name=options["last_name"],
            superuser=options["superuser"],
        )
        codes = issue_backup_codes(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Created' if created else 'Updated'} staff account {user.email} "
                f"({Role(options['role']).label})."
            )
        )
        if not options["password"]:
            self.stdout.write(f"Password (shown once): {password}")
        self.stdout.write("Backup codes (each works once; shown only now):")
        for code in codes:
            self.stdout.write(f"  {code}")
        self.stdout.write(
            "Sign in at /console/login/, enter a backup code, then set up an authenticator "
            "app at /console/enrol/."
        )
