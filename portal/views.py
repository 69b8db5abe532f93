from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from cityhall import ratelimit
from cityhall.pagecache import public_page
from cityhall.phones import display_phone
from cityhall.records.services import person_on_hold

from . import export, selectors, services
from .forms import (
    ConfirmPasswordForm,
    DeleteAccountForm,
    PhoneCodeForm,
    ProfileForm,
    ResendConfirmationForm,
)


@public_page
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"services": selectors.services()})


@login_required
def me(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/me.html", {"dashboard": selectors.dashboard_for(user=request.user)}
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        phone_changed = "phone" in form.changed_data
        user = form.save()
        if phone_changed:
            user.phone_confirmed_at = None
            user.save(update_fields=["phone_confirmed_at"])
        language = user.preferred_language
        needs_code = bool(
            user.phone and not user.phone_confirmed_at and (phone_changed or user.notify_by_sms)
        )
        if needs_code:
            services.phone_send_code(request=request, user=user)
        with translation.override(language):
            messages.success(request, _("Your profile has been saved."))
            target = reverse("portal:confirm_phone" if needs_code else "portal:profile")
        response = redirect(target)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=True,
        )
        return response
    return render(request, "portal/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def confirm_phone(request: HttpRequest) -> HttpResponse:
    """Type the code we texted: until then, nothing is texted to the new number."""
    user = request.user
    if not user.phone or user.phone_confirmed_at:
        return redirect("portal:profile")
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and "resend" in request.POST:
        services.phone_send_code(request=request, user=user)
        messages.success(request, _("We sent a new code."))
        return redirect("portal:confirm_phone")
    if request.method == "POST" and form.is_valid():
        if services.phone_confirm(user=user, code=form.cleaned_data["code"]):
            messages.success(request, _("Your phone number is confirmed."))
            return redirect("portal:profile")
        form.add_error("code", _("That code is not right. Check the text message and try again."))
    return render(
        request, "portal/confirm_phone.html", {"form": form, "phone": display_phone(user.phone)}
    )


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html")


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    """Web app manifest, so residents can add Virtual City Hall to a phone's home screen."""
    data = {
        "name": f"{settings.CITY['name']} — {_('Virtual City Hall')}",
        "short_name": _("City Hall"),
        "description": _("Permits, problem reports and alerts from your city."),
        "lang": translation.get_language(),
        "start_url": reverse("portal:home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1a4480",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_http_methods(["GET", "POST"])
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    """A new confirmation link for an account that waits for one. The answer is the same whether
    or not such an account exists, so the page tells nobody who has an account here."""
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        services.confirmation_resend(request, email=email)
        messages.success(
            request,
            _(
                "If an account with %(email)s is waiting for confirmation, we have sent a new "
                "link. It can take a few minutes; check your spam folder too."
            )
            % {"email": email},
        )
        return redirect("portal:resend_confirmation")
    return render(request, "portal/resend_confirmation.html", {"form": form})


def _password_tries_limited(request: HttpRequest) -> HttpResponse | None:
    """The "Too many attempts" page once this connection has tried too many passwords on the
    pages that ask for it again (download my data, delete my account)."""
    try:
        ratelimit.check(request, "my_data")
    except ratelimit.Limited as limited:
        response = render(
            request,
            "429.html",
            {"minutes": max(1, -(-limited.retry_after // 60))},
            status=429,
        )
        response["Retry-After"] = str(limited.retry_after)
        return response
    return None


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    """Download my data: everything kept about the signed-in person, as a ZIP, after their
    password (someone at an unlocked computer must not walk away with it)."""
    form = ConfirmPasswordForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if (limited := _password_tries_limited(request)) is not None:
            return limited
        if form.is_valid():
            archive = export.build_zip(request.user)
            name = f"city-hall-my-data-{timezone.localdate():%Y-%m-%d}.zip"
            return FileResponse(archive, as_attachment=True, filename=name)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/my_data.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """Delete my account: what goes and what the city must keep (without the person) is said
    first; the password and a tick confirm it."""
    if request.user.is_staff:
        return render(request, "portal/delete_account.html", {"staff": True}, status=403)
    if person_on_hold(request.user):
        # A legal hold covers this person (cityhall.records): nothing of theirs may go.
        return render(request, "portal/delete_account.html", {"on_hold": True}, status=409)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if (limited := _password_tries_limited(request)) is not None:
            return limited
        if form.is_valid():
            language = request.user.preferred_language
            try:
                services.account_delete(user=request.user)
            except ValueError:  # a legal hold placed a moment ago
                return render(request, "portal/delete_account.html", {"on_hold": True}, status=409)
            logout(request)
            with translation.override(language):
                messages.success(
                    request, _("Your account is deleted. Thank you for using City Hall.")
                )
                return redirect(reverse("portal:home"))
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/delete_account.html", {"form": form}, status=status)
