"""Creating staff accounts."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from .models import User
from .roles import Role, role_group_name


@transaction.atomic
def staff_create(
    *,
    email: str,
    role: Role,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    superuser: bool = False,
) -> tuple[User, bool]:
    """Create (or update) a staff account with exactly one role. Returns (user, created)."""
    email = email.strip().lower()
    user, created = User.objects.get_or_create(
        email=email, defaults={"username": email, "first_name": first_name, "last_name": last_name}
    )
    user.is_staff = True
    user.is_active = True
    user.is_superuser = superuser
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get(name=role_group_name(role))])
    return user, created


BACKUP_CODE_COUNT = 10


def issue_backup_codes(user: User) -> list[str]:
    """Replace the user's backup codes with ten fresh single-use ones and return them."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
