from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

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
        # Emails go out in the recipient's language, whatever page triggered them.
        user = context.get("user") or User.objects.filter(email__iexact=email).first()
        language = getattr(user, "preferred_language", None) or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
