"""Console sign-in: password (guarded by django-axes), then a second factor.

A staff member with no confirmed device enrols an authenticator app here, and is shown ten
single-use backup codes once. Enrolment is refused to a session that has not verified when
the account already has a device: a stolen password must never be enough to add one.
"""

from __future__ import annotations

import base64
import logging

import segno
from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .console import mark_verified
from .security import client_ip
from .staff import issue_backup_codes

logger = logging.getLogger("cityhall.security")

SESSION_BACKUP_CODES = "cityhall_backup_codes"


def _site():
    from django.contrib import admin

    return admin.site


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _with_next(name: str, request: HttpRequest) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def _context(request: HttpRequest, **extra) -> dict:
    return {**_site().each_context(request), "next": _next_url(request), **extra}


def _is_verified(user) -> bool:
    # OTPMiddleware adds is_verified(); a user logged in during this request lacks it.
    return bool(getattr(user, "is_verified", lambda: False)())


def _second_step(request: HttpRequest) -> HttpResponse:
    user = request.user
    if _is_verified(user):
        return redirect(_next_url(request))
    if user_has_device(user, confirmed=True):
        return redirect(_with_next("admin:otp_verify", request))
    return redirect(_with_next("admin:otp_enrol", request))


class ConsolePasswordForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Enter the email address and password of a staff account. "
        "Both are case-sensitive.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


@sensitive_post_parameters()
@csrf_protect
@never_cache
def password_step(request: HttpRequest, *, site=None, extra_context=None) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_staff and request.method == "GET":
        return _second_step(request)
    form = ConsolePasswordForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth_login(request, form.get_user())
        return _second_step(request)
    return render(
        request,
        "console/login.html",
        _context(request, form=form, title="Sign in", **(extra_context or {})),
    )


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_otp_token(self):
        return "".join(self.cleaned_data["otp_token"].split()).lower()


def _staff_or_login(request: HttpRequest) -> HttpResponse | None:
    if not (request.user.is_authenticated and request.user.is_staff and request.user.is_active):
        return redirect(_with_next("admin:login", request))
    return None


def _throttled_message(user) -> str | None:
    devices = list(devices_for_user(user, confirmed=True))
    if devices and not any(device.verify_is_allowed()[0] for device in devices):
        return (
            "Too many wrong codes. Wait a few seconds before trying again; each further "
            "wrong code doubles the wait."
        )
    return None


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    if (denied := _staff_or_login(request)) is not None:
        return denied
    user = request.user
    again = request.GET.get("again") == "1"  # a sensitive action asks for a fresh code
    if user.is_verified() and not again:
        return redirect(_next_url(request))
    if not user_has_device(user, confirmed=True):
        return redirect(_with_next("admin:otp_enrol", request))

    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = _throttled_message(user)
        device = _match_token(user, form.cleaned_data["otp_token"])
        if device is not None:
            # A new session key once the second factor is in: a key seen before sign-in (a
            # fixation attempt) is worth nothing after it.
            request.session.cycle_key()
            otp_login(request, device)
            mark_verified(request)
            logger.info("console 2FA verified user=%s device=%s", user.pk, device.persistent_id)
            if isinstance(device, StaticDevice):
                left = StaticToken.objects.filter(device=device).count()
                messages.warning(
                    request,
                    f"You signed in with a backup code. {left} backup codes are left.",
                )
                if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                    return redirect(_with_next("admin:otp_enrol", request))
            return redirect(_next_url(request))
        logger.warning("console 2FA failed user=%s ip=%s", user.pk, client_ip(request))
        form.add_error(
            "otp_token",
            throttled or "That code is not valid. Check your app and try again.",
        )
    title = "Confirm it is you" if again else "Enter your code"
    return render(
        request, "console/verify.html", _context(request, form=form, title=title, again=again)
    )


def _match_token(user, token: str):
    # Each device throttles itself (django-otp): a wrong code counts toward its delay.
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


PENDING_TOTP = "pending_totp_device"


def _pending_totp(request) -> TOTPDevice:
    """The secret being enrolled belongs to the session that started it: another session (a
    stolen password used elsewhere, say) gets a new secret and never sees this one."""
    user = request.user
    device = TOTPDevice.objects.filter(
        pk=request.session.get(PENDING_TOTP, -1), user=user, confirmed=False
    ).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        request.session[PENDING_TOTP] = device.pk
    return device


def _qr_svg(data: str) -> str:
    qr = segno.make(data, error="m")
    return qr.svg_inline(scale=5, dark="#1b1b1b", light="#ffffff", title="QR code to scan")


@sensitive_post_parameters("otp_token")
@csrf_protect
@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    if (denied := _staff_or_login(request)) is not None:
        return denied
    user = request.user
    if user_has_device(user, confirmed=True) and not user.is_verified():
        return redirect(_with_next("admin:otp_verify", request))

    device = _pending_totp(request)
    form = TokenForm(request.POST or None)
    form.fields["otp_token"].help_text = "The 6-digit code your app shows after you add City Hall."
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if device.verify_token(form.cleaned_data["otp_token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            mark_verified(request)
            request.session[SESSION_BACKUP_CODES] = issue_backup_codes(user)
            logger.info("console 2FA enrolled user=%s", user.pk)
            return redirect(_with_next("admin:otp_backup_codes", request))
        logger.warning(
            "console 2FA enrolment code failed user=%s ip=%s", user.pk, client_ip(request)
        )
        form.add_error(
            "otp_token",
            "That code is not valid. Check the time on your phone and try again."
            if allowed
            else "Too many wrong codes. Wait a few seconds before trying again.",
        )

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "console/enrol.html",
        _context(
            request,
            form=form,
            title="Set up two-step sign-in",
            qr_svg=_qr_svg(device.config_url),
            secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        ),
    )


@never_cache
def backup_codes(request: HttpRequest) -> HttpResponse:
    if (denied := _staff_or_login(request)) is not None:
        return denied
    if not request.user.is_verified():
        return redirect(_with_next("admin:otp_verify", request))
    if request.method == "POST":
        request.session[SESSION_BACKUP_CODES] = issue_backup_codes(request.user)
        return redirect(_with_next("admin:otp_backup_codes", request))
    codes = request.session.pop(SESSION_BACKUP_CODES, None)
    return render(
        request,
        "console/backup_codes.html",
        _context(request, codes=codes, title="Your backup codes"),
    )


@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """A new staff member's invitation: choose a password, then enrol an authenticator app."""
    from django.contrib.auth.forms import SetPasswordForm

    from .staff import invitation_user

    user = invitation_user(token)
    if user is None:
        return render(
            request,
            "console/invite_invalid.html",
            _context(request, title="This invitation cannot be used"),
            status=400,
        )
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()  # the link stops working: it named the old password
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        logger.info("console invitation used user=%s", user.pk)
        return redirect("admin:otp_enrol")
    return render(
        request,
        "console/invite.html",
        _context(request, form=form, title="Choose your password", invited=user),
    )
