from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import (
    condition,
    require_http_methods,
    require_POST,
    require_safe,
)

from cityhall import ratelimit
from cityhall.links import absolute_url, site_url
from cityhall.pagecache import public_page
from cityhall.text import words_and

from . import selectors, services
from .atom import alerts_atom_feed
from .cap import alert_to_cap
from .forms import CodeForm, MySubscriptionForm, SubscribeForm
from .models import Notification, Topic
from .sms import twilio_signature_valid
from .tokens import read_confirm_email_token, read_unsubscribe_token

CODE_SALT = "alerts.code-page"


@public_page
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    topics = list(Topic.objects.filter(is_active=True))
    topic = next((t for t in topics if t.slug == request.GET.get("topic")), None)
    archive = Paginator(selectors.alerts_archive(topic=topic), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/index.html",
        {
            "topics": topics,
            "topic": topic,
            "active": list(selectors.alerts_active(topic=topic)),
            "archive": archive,
        },
    )


@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_public(pk=pk)
    if alert is None:
        raise Http404
    return render(request, "alerts/detail.html", {"alert": alert})


def _cap_alert(request, pk: int):
    # One query for the view and both validators.
    if not hasattr(request, "_cap_alert"):
        request._cap_alert = selectors.alert_public(pk=pk)
    return request._cap_alert


def _cap_etag(request, pk: int) -> str | None:
    alert = _cap_alert(request, pk)
    if alert is None:
        return None
    profile = "ipaws" if settings.CAP_IPAWS_PROFILE else "cap"
    return f"{alert.identifier}-{alert.updated_at.timestamp():.6f}-{profile}"


def _cap_modified(request, pk: int):
    alert = _cap_alert(request, pk)
    return alert.updated_at if alert else None


@require_safe
@condition(etag_func=_cap_etag, last_modified_func=_cap_modified)
@cache_control(max_age=60, public=True)
def cap(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _cap_alert(request, pk)
    if alert is None:
        raise Http404
    return HttpResponse(
        alert_to_cap(alert, site_url=site_url()), content_type="application/cap+xml; charset=utf-8"
    )


def _feed_version(request):
    if not hasattr(request, "_feed_version"):
        request._feed_version = selectors.feed_version()
    return request._feed_version


def _feed_etag(request) -> str:
    count, last = _feed_version(request)
    return f"feed-{get_language()}-{count}-{last.timestamp() if last else 0:.6f}"


def _feed_modified(request):
    return _feed_version(request)[1]


@require_safe
@condition(etag_func=_feed_etag, last_modified_func=_feed_modified)
@cache_control(max_age=60, public=True)
def feed(request: HttpRequest) -> HttpResponse:
    """The Atom index of alerts, in the page's language; pollers get 304 while nothing changed."""
    alerts = selectors.alerts_for_feed()
    updated = max((a.updated_at for a in alerts), default=timezone.now())
    language = "es" if (get_language() or "en").startswith("es") else "en"
    body = alerts_atom_feed(
        alerts,
        site_url=site_url(),
        feed_url=absolute_url(reverse("alerts:feed")),
        updated=updated,
        language=language,
    )
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


# --- Subscribing without an account -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("alerts:my_alerts")
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        destination = data["email"] if data["how"] == "email" else data["phone"]
        try:
            ratelimit.check(request, "subscribe", destinations=(destination,))
        except ratelimit.Limited as limited:
            # The form comes back as it was typed, with when to try again.
            minutes = max(1, -(-limited.retry_after // 60))
            form.add_error(
                None,
                ngettext(
                    "Too many sign-ups from this connection or to this address. "
                    "Please try again in %(minutes)s minute.",
                    "Too many sign-ups from this connection or to this address. "
                    "Please try again in %(minutes)s minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            response = render(request, "alerts/subscribe.html", {"form": form}, status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        subscription = services.subscription_start(
            email=data["email"] if data["how"] == "email" else "",
            phone=data["phone"] if data["how"] == "sms" else "",
            language=data["language"],
            topics=data["topics"],
            citywide=form.citywide,
            neighborhoods=data["neighborhoods"],
        )
        if subscription.by_email:
            return redirect("alerts:subscribe_sent")
        return redirect(
            "alerts:subscribe_code", token=signing.dumps(subscription.pk, salt=CODE_SALT)
        )
    return render(request, "alerts/subscribe.html", {"form": form})


@require_safe
def subscribe_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/subscribe_sent.html")


@require_http_methods(["GET", "POST"])
def subscribe_code(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscription_id = signing.loads(token, salt=CODE_SALT, max_age=24 * 3600)
    except signing.BadSignature:
        raise Http404 from None
    if request.method == "POST" and "resend" in request.POST:
        if services.subscription_resend_code(http_request=request, subscription_id=subscription_id):
            messages.success(request, _("We sent a new code. The one before no longer works."))
        return redirect("alerts:subscribe_code", token=token)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.subscription_confirm_sms(
            subscription_id=subscription_id, code=form.cleaned_data["code"]
        ):
            return render(request, "alerts/confirmed.html")
        form.add_error("code", _("That code is not right. Check the text message and try again."))
    return render(request, "alerts/subscribe_code.html", {"form": form})


@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    # Confirming takes a click (POST): link checkers that open every link confirm nothing.
    subscription_id = read_confirm_email_token(token)
    if subscription_id is None:
        return render(request, "alerts/link_invalid.html", status=400)
    if request.method == "POST":
        if services.subscription_confirm_email(subscription_id=subscription_id) is None:
            return render(request, "alerts/link_invalid.html", status=400)
        return render(request, "alerts/confirmed.html")
    return render(request, "alerts/confirm_email.html")


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no cookie or token.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    payload = read_unsubscribe_token(token)
    if payload is None:
        return render(request, "alerts/link_invalid.html", status=400)
    if request.method == "POST":
        services.unsubscribe(payload=payload)
        return render(request, "alerts/unsubscribed.html", {"channel": payload["c"]})
    return render(request, "alerts/unsubscribe.html", _what_stops(payload))


def _masked(destination: str) -> str:
    """Enough to recognise one's own address, not enough to learn someone else's:
    "c••••@example.com", "•••• 4412"."""
    if "@" in destination:
        name, domain = destination.split("@", 1)
        return f"{name[:1]}••••@{domain}"
    digits = [c for c in destination if c.isdigit()]
    return f"•••• {''.join(digits[-4:])}" if digits else ""


def _what_stops(payload: dict) -> dict:
    """What the unsubscribe button will stop, in words: which messages, sent where."""
    from cityhall.models import User

    from .models import Subscription

    channel = payload["c"]
    language = translation.get_language()
    subscription = (
        Subscription.objects.prefetch_related("topics").filter(pk=payload.get("s", -1)).first()
    )
    user = User.objects.filter(pk=payload.get("u", -1)).first()
    topics = [topic.name(language) for topic in subscription.topics.all()] if subscription else []
    if channel == "sms":
        phone = (subscription.phone_number if subscription else "") or getattr(user, "phone", "")
        destination = _masked(phone)
    else:
        email = (subscription.email_address if subscription else "") or getattr(user, "email", "")
        destination = _masked(email)
    return {
        "channel": channel,
        "topics": words_and(topics),
        "destination": destination,
        "account": user is not None,
    }


@csrf_exempt  # Twilio posts here; the signature below is the authentication.
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    url = absolute_url(request.path)
    params = {key: request.POST.get(key, "") for key in request.POST}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not twilio_signature_valid(
        url=url, params=params, signature=signature, auth_token=settings.TWILIO_AUTH_TOKEN
    ):
        return HttpResponseForbidden("invalid signature")
    words = request.POST.get("Body", "").strip().upper().split()
    if words and words[0] in services.STOP_WORDS:
        services.sms_stop(phone=request.POST.get("From", ""))
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml"
    )


# --- A resident's own alerts and inbox -------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def my_alerts(request: HttpRequest) -> HttpResponse:
    user = request.user
    subscription = selectors.subscription_for_user(user=user)
    if request.method == "POST" and request.POST.get("action") == "stop":
        if subscription is not None:
            services.unsubscribe(payload={"c": "email", "s": subscription.pk})
            services.unsubscribe(payload={"c": "sms", "s": subscription.pk})
        messages.success(request, _("You will not get alerts any more."))
        return redirect("alerts:my_alerts")
    initial = {"by_email": True, "language": user.preferred_language, "area": "city"}
    if subscription is not None:
        initial = {
            "topics": list(subscription.topics.all()),
            "area": "city" if subscription.citywide else "neighborhoods",
            "neighborhoods": list(subscription.neighborhoods.all()),
            "by_email": subscription.by_email,
            "by_sms": subscription.by_sms,
            "language": subscription.language,
        }
    form = MySubscriptionForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.subscription_save_for_user(
            user=user,
            topics=data["topics"],
            citywide=form.citywide,
            neighborhoods=data["neighborhoods"],
            by_email=data["by_email"],
            by_sms=data["by_sms"],
            language=data["language"],
        )
        messages.success(request, _("Your alert choices have been saved."))
        return redirect("alerts:my_alerts")
    return render(request, "alerts/my_alerts.html", {"form": form, "subscription": subscription})


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox_for(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "alerts/inbox.html", {"page": page})


@login_required
@require_safe
def message(request: HttpRequest, pk: int) -> HttpResponse:
    # Only the resident's own messages: anyone else's is "not found", not "forbidden".
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    if notification.read_at is None:
        with transaction.atomic():
            Notification.objects.filter(pk=pk, read_at__isnull=True).update(read_at=timezone.now())
    return render(request, "alerts/message.html", {"notification": notification})
