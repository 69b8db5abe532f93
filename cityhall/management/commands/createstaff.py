from django.core.management.base import BaseCommand, CommandError

from cityhall.roles import Role
from cityhall.staff import invitation_send, issue_backup_codes, staff_create


class Command(BaseCommand):
    help = (
        "Create a staff account with a role. Without --password the person gets an invitation "
        "by email (single use, STAFF_INVITATION_HOURS) and the link is printed too: they choose "
        "a password and enrol an authenticator app. With --password (e.g. the first city "
        "administrator, before mail works) ten one-time backup codes are printed instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", help="Default: a random one, printed once.")
        parser.add_argument("--superuser", action="store_true", help="Every permission.")

    def handle(self, *args, **options):
        password = options["password"]
        if password is not None:
            from django.contrib.auth import get_user_model
            from django.contrib.auth.password_validation import validate_password
            from django.core.exceptions import ValidationError

            candidate = get_user_model()(email=options["email"], is_staff=True)
            try:
                validate_password(password, user=candidate)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        user, created = staff_create(
            email=options["email"],
            role=Role(options["role"]),
            password=password,
            first_name=options["first_name"],
            last_name=options["last_name"],
            superuser=options["superuser"],
        )
        if password is None:
            link = invitation_send(user)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{'Created' if created else 'Updated'} staff account {user.email} "
                    f"({Role(options['role']).label}); an invitation was emailed."
                )
            )
            self.stdout.write(f"Invitation link (works once, for a limited time): {link}")
            return
        codes = issue_backup_codes(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Created' if created else 'Updated'} staff account {user.email} "
                f"({Role(options['role']).label})."
            )
        )
        self.stdout.write("Backup codes (each works once; shown only now):")
        for code in codes:
            self.stdout.write(f"  {code}")
        self.stdout.write(
            "Sign in at /console/login/, enter a backup code, then set up an authenticator "
            "app at /console/enrol/."
        )
