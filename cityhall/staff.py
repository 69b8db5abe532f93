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


# --- Invitations: an account made by an administrator enrols through a link, not a password ----

INVITATION_SALT = "cityhall.staff.invitation"


def _password_fingerprint(user: User) -> str:
    import hashlib

    return hashlib.sha256(user.password.encode()).hexdigest()[:20]


def invitation_token(user: User) -> str:
    """Signed, expiring (STAFF_INVITATION_HOURS) and single-use: it names the account's current
    password hash, which setting a password changes."""
    from django.core import signing

    return signing.dumps({"u": user.pk, "p": _password_fingerprint(user)}, salt=INVITATION_SALT)


def invitation_user(token: str) -> User | None:
    """The staff account a still-valid invitation is for, or None."""
    from django.conf import settings
    from django.core import signing

    try:
        data = signing.loads(
            token, salt=INVITATION_SALT, max_age=settings.STAFF_INVITATION_HOURS * 3600
        )
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_staff=True, is_active=True).first()
    if user is None or _password_fingerprint(user) != data.get("p"):
        return None
    return user


def invitation_send(user: User) -> str:
    """Email the invitation (staff email is in English) and return its link."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse

    from .links import absolute_url

    link = absolute_url(reverse("admin:staff_invite", args=[invitation_token(user)]))
    send_mail(
        f"Your {settings.CITY['name']} console account",
        f"An account was made for you in the City Hall console.\n\n"
        f"Open this link to choose your password and set up your authenticator app:\n{link}\n\n"
        f"The link works once and for {settings.STAFF_INVITATION_HOURS} hours. If it has "
        "expired, ask your administrator for a new one.",
        None,
        [user.email],
    )
    return link
