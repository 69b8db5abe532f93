from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import translate_url
from django.utils import translation

from cityhall.links import absolute_url
from cityhall.models import User


class ResidentAccountAdapter(DefaultAccountAdapter):
    """allauth tuned for residents: language follows the person, sign-up can be closed."""

    def is_open_for_signup(self, request):
        return settings.SIGNUP_OPEN

    def save_user(self, request, user, form, commit=True):
        # A resident who signs up on the Spanish site prefers Spanish until they say otherwise.
        user.preferred_language = (translation.get_language() or "en")[:2]
        if user.preferred_language not in dict(settings.LANGUAGES):
            user.preferred_language = settings.LANGUAGE_CODE
        return super().save_user(request, user, form, commit=commit)

    def get_login_redirect_url(self, request):
        # Land on "My City Hall" in the language the resident chose, not the page's.
        with translation.override(request.user.preferred_language or settings.LANGUAGE_CODE):
            return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix, email, context):
        # Emails go out in the recipient's language, whatever page triggered them, and their
        # links lead to the site in that language.
        user = context.get("user") or User.objects.filter(email__iexact=email).first()
        language = getattr(user, "preferred_language", None) or translation.get_language()
        context = {
            key: _on_site(translate_url(value, language))
            if isinstance(value, str) and "://" in value
            else value
            for key, value in context.items()
        }
        context.setdefault("current_site", CitySite())
        with translation.override(language):
            super().send_mail(template_prefix, email, context)


def _on_site(url: str) -> str:
    """allauth builds its links from the host of the request that sent the email; every link the
    city sends starts from SITE_URL instead (behind a proxy, or from `make run` on another port,
    the request's host is not where residents reach the site)."""
    bits = urlsplit(url)
    path = (
        bits.path
        + (f"?{bits.query}" if bits.query else "")
        + (f"#{bits.fragment}" if bits.fragment else "")
    )
    return absolute_url(path or "/")


class CitySite:
    """What allauth's emails call "the site": the city's name and public address."""

    @property
    def name(self) -> str:
        return settings.CITY["name"]

    @property
    def domain(self) -> str:
        return urlsplit(settings.SITE_URL).netloc
