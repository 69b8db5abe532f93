"""Report a problem (one question per page, saved in the session), track it, see the map."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cityhall import ratelimit
from cityhall.constants import EventKind
from cityhall.pagecache import public_page
from cityhall.phones import display_phone

from . import selectors, services
from .constants import DUPLICATE_RADIUS_FEET
from .forms import (
    AddInfoForm,
    CategoryForm,
    ContactForm,
    DetailsForm,
    FollowCodeForm,
    LocationForm,
    PhotoForm,
    ReopenForm,
)
from .models import Follower, RequestPhoto, ServiceCategory, ServiceRequest
from .workflow import TransitionNotAllowed

SESSION = "report"
STEPS = [
    (1, gettext_lazy("Problem")),
    (2, gettext_lazy("Location")),
    (3, gettext_lazy("Details")),
    (4, gettext_lazy("Photos")),
    (5, gettext_lazy("Contact")),
    (6, gettext_lazy("Check and send")),
]


def _step(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    step = context["step"]
    headings = {
        1: _("What is the problem?"),
        2: _("Where is it?"),
        3: _("Tell us more"),
        4: _("Photos (optional)"),
        5: _("How can we reach you?"),
        6: _("Check your report"),
    }
    return render(request, template, {**context, "steps_labels": STEPS, "heading": headings[step]})


SECRETS = "request_secrets"


def _draft(request: HttpRequest) -> dict:
    draft = request.session.get(SESSION)
    if not draft:
        draft = {"token": secrets.token_hex(16)}
        request.session[SESSION] = draft
    return draft


def _save(request: HttpRequest, **values) -> None:
    draft = _draft(request)
    draft.update(values)
    request.session[SESSION] = draft


def _category(draft: dict) -> ServiceCategory | None:
    return ServiceCategory.objects.filter(pk=draft.get("category"), is_active=True).first()


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    # Read, not created: a visitor who only looks writes no session row (one per visitor was
    # a database write on every first visit); the draft begins with the first answer.
    draft = request.session.get(SESSION) or {}
    form = CategoryForm(request.POST or None, initial={"category": draft.get("category")})
    if request.method == "POST" and form.is_valid():
        category = form.cleaned_data["category"]
        user = request.user if request.user.is_authenticated else None
        try:
            services.reporter_allowed(category, user)
        except ValidationError as error:
            form.add_error("category", error)
        else:
            _save(request, category=category.pk)
            return redirect("code_enforcement:report_location")
    return _step(request, "code_enforcement/report_category.html", {"form": form, "step": 1})


def _needs(request: HttpRequest, *keys: str):
    draft = _draft(request)
    if not all(draft.get(key) for key in keys):
        return None, redirect("code_enforcement:report")
    return draft, None


@require_http_methods(["GET", "POST"])
def report_location(request: HttpRequest) -> HttpResponse:
    draft, back = _needs(request, "category")
    if back:
        return back
    data = request.POST or None
    if data is not None and data.get("address_choice"):
        # One of the suggested addresses, chosen without JavaScript: it is the address.
        data = data.copy()
        data["address"] = data["address_choice"]
        data["latitude"] = data["longitude"] = ""
    form = LocationForm(
        data,
        initial={k: draft.get(k, "") for k in ("address", "latitude", "longitude")},
    )
    matches = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lat, lon, address = data.get("latitude"), data.get("longitude"), data["address"].strip()
        if not (lat and lon):
            # The path without a map: the address must be one the city knows.
            found = selectors.address_matches(address, limit=10)
            matches = found.matches
            if found.exact is not None:
                chosen = found.exact
                lat, lon = chosen.latitude, chosen.longitude
                address = f"{chosen.line}, {found.unit}" if found.unit else chosen.line
            elif not matches:
                form.add_error(
                    "address",
                    _(
                        "We could not find that address in the city. Check the spelling, or choose the place on the map."
                    ),
                )
            elif not found.numbered:
                form.add_error("address", _("Several addresses match. Choose one below."))
            else:
                form.add_error(
                    "address",
                    _(
                        "We could not find that exact address. The nearest ones we know are "
                        "below: choose one, or choose the place on the map."
                    ),
                )
        if lat and lon and not form.errors:
            try:
                services.validate_location(lat, lon)
            except ValidationError as error:
                form.add_error("address", error.messages[0])
            else:
                _save(request, address=address, latitude=str(lat), longitude=str(lon))
                return redirect("code_enforcement:report_details")
    return _step(
        request,
        "code_enforcement/report_location.html",
        {"form": form, "matches": matches[:10], "step": 2},
    )


@require_safe
def nearest_address(request: HttpRequest) -> JsonResponse:
    """A map point as words: "Near 1034 Oak Street" (the nearest address the city has)."""
    from .addresses import nearest

    try:
        lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
    except (KeyError, ValueError):
        return JsonResponse({"label": ""}, status=400)
    found = nearest(lat, lon)
    label = _("Near %(address)s") % {"address": found.line} if found else ""
    return JsonResponse({"label": label})


@require_safe
def address_suggestions(request: HttpRequest) -> HttpResponse:
    """htmx: addresses starting like what was typed (the form works without it)."""
    query = request.GET.get("address", "").strip()
    matches = selectors.address_matches(query).matches if len(query) >= 3 else []
    return render(request, "code_enforcement/_address_suggestions.html", {"matches": matches})


@require_http_methods(["GET", "POST"])
def report_details(request: HttpRequest) -> HttpResponse:
    draft, back = _needs(request, "category", "latitude")
    if back:
        return back
    category = _category(draft)
    initial = {"description": draft.get("description", "")}
    initial.update({f"attr_{k}": v for k, v in draft.get("attributes", {}).items()})
    form = DetailsForm(request.POST or None, category=category, initial=initial)
    if request.method == "POST" and form.is_valid():
        _save(request, description=form.cleaned_data["description"], attributes=form.attributes())
        return redirect("code_enforcement:report_photos")
    return _step(
        request,
        "code_enforcement/report_details.html",
        {"form": form, "category": category, "step": 3},
    )


@require_http_methods(["GET", "POST"])
def report_photos(request: HttpRequest) -> HttpResponse:
    draft, back = _needs(request, "category", "latitude", "description")
    if back:
        return back
    form = PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and request.POST.get("remove"):
        RequestPhoto.objects.filter(
            pk=request.POST["remove"], draft_token=draft["token"], request__isnull=True
        ).delete()
        return redirect("code_enforcement:report_photos")
    if request.method == "POST" and form.is_valid():
        photo = form.cleaned_data.get("photo")
        if photo:
            ratelimit.check(request, "photo")
            try:
                _photo, gps = services.photo_add_to_draft(
                    draft_token=draft["token"], uploaded=photo
                )
            except ValidationError as error:
                form.add_error("photo", error.messages[0])
            else:
                if gps and form.cleaned_data.get("use_photo_location"):
                    try:
                        services.validate_location(*gps)
                        _save(
                            request,
                            latitude=str(gps[0]),
                            longitude=str(gps[1]),
                            address="",
                        )
                    except ValidationError:
                        messages.warning(
                            request,
                            _(
                                "The photo was taken outside the city, so we kept the location you chose."
                            ),
                        )
                messages.success(request, _("Photo added."))
                return redirect("code_enforcement:report_photos")
        elif "continue" in request.POST:
            return redirect("code_enforcement:report_contact")
    photos = RequestPhoto.objects.filter(draft_token=draft["token"], request__isnull=True)
    return _step(
        request, "code_enforcement/report_photos.html", {"form": form, "photos": photos, "step": 4}
    )


@require_http_methods(["GET", "POST"])
def report_contact(request: HttpRequest) -> HttpResponse:
    draft, back = _needs(request, "category", "latitude", "description")
    if back:
        return back
    form = ContactForm(request.POST or None, initial=draft.get("contact", {}))
    if request.user.is_authenticated and request.method == "POST":
        return redirect("code_enforcement:report_review")
    if request.method == "POST" and form.is_valid():
        _save(request, contact=form.cleaned_data)
        return redirect("code_enforcement:report_review")
    return _step(request, "code_enforcement/report_contact.html", {"form": form, "step": 5})


@require_http_methods(["GET", "POST"])
def report_review(request: HttpRequest) -> HttpResponse:
    draft, back = _needs(request, "category", "latitude", "description")
    if back:
        return back
    category = _category(draft)
    lat, lon = float(draft["latitude"]), float(draft["longitude"])
    # Reports of a private category are never offered to other people to follow.
    nearby = (
        []
        if category.sensitive
        else services.nearby_open_requests(category=category, latitude=lat, longitude=lon)[:5]
    )
    if request.method == "POST" and request.POST.get("follow"):
        original = get_object_or_404(
            ServiceRequest, public_id=request.POST["follow"], category__sensitive=False
        )
        contact = draft.get("contact", {})
        ratelimit.check(
            request, "follow", destinations=(contact.get("email", ""), contact.get("phone", ""))
        )
        # What they wrote and photographed is not thrown away: it joins the report they follow.
        services.request_follow_with_report(
            request=original,
            description=draft.get("description", ""),
            draft_token=draft.get("token", ""),
            actor=request.user,
        )
        if request.user.is_authenticated:
            Follower.objects.get_or_create(
                request=original, user=request.user, defaults={"language": get_language()[:2]}
            )
        elif contact.get("email") or contact.get("phone"):
            follower, _created = Follower.objects.get_or_create(
                request=original,
                email=contact.get("email", ""),
                phone=contact.get("phone", ""),
                defaults={"language": get_language()[:2]},
            )
            if not follower.email and not follower.phone_confirmed_at:
                # Texts only after the number's owner types back the code (double opt-in).
                services.follower_send_code(http_request=request, follower=follower)
                request.session.pop(SESSION, None)
                request.session[FOLLOW_CONFIRM] = follower.pk
                return redirect("code_enforcement:follow_confirm", public_id=original.public_id)
        request.session.pop(SESSION, None)
        if not (request.user.is_authenticated or contact.get("email") or contact.get("phone")):
            messages.info(
                request,
                _(
                    "What you wrote and your photos were added to this report for city staff. "
                    "Keep this page's address to check on it; we have no email or phone to tell "
                    "you."
                ),
            )
            return redirect(original.get_absolute_url())
        messages.success(
            request,
            _(
                "You are following this report. What you wrote and your photos were added to it "
                "for city staff. We will tell you when it changes."
            ),
        )
        return redirect(original.get_absolute_url())
    if request.method == "POST" and "submit" in request.POST:
        ratelimit.check(request, "report")  # the draft stays in the session meanwhile
        contact = draft.get("contact", {})
        user = request.user if request.user.is_authenticated else None
        try:
            created, secret = services.request_submit(
                category=category,
                description=draft["description"],
                latitude=lat,
                longitude=lon,
                address=draft.get("address", ""),
                attributes=draft.get("attributes", {}),
                reporter=user,
                contact_name=contact.get("name", ""),
                contact_email=contact.get("email", ""),
                contact_phone=contact.get("phone", ""),
                language=(get_language() or "en")[:2],
                draft_token=draft["token"],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("code_enforcement:report_review")
        request.session.pop(SESSION, None)
        secrets_by_id = request.session.get(SECRETS, {})
        secrets_by_id[created.public_id] = secret
        request.session[SECRETS] = secrets_by_id
        return redirect("code_enforcement:submitted", public_id=created.public_id)
    photos = RequestPhoto.objects.filter(draft_token=draft["token"], request__isnull=True)
    return _step(
        request,
        "code_enforcement/report_review.html",
        {
            "draft": draft,
            "category": category,
            "nearby": nearby,
            "radius_feet": DUPLICATE_RADIUS_FEET,
            "photos": photos,
            "step": 6,
            "contact_label": (draft.get("contact") or {}).get("email")
            or (draft.get("contact") or {}).get("phone"),
        },
    )


def _secret(request: HttpRequest, public_id: str) -> str:
    key = request.GET.get("key")
    if key:
        stored = request.session.get(SECRETS, {})
        stored[public_id] = key
        request.session[SECRETS] = stored
    return request.session.get(SECRETS, {}).get(public_id, "")


@require_safe
def submitted(request: HttpRequest, public_id: str) -> HttpResponse:
    service_request = get_object_or_404(
        ServiceRequest.objects.select_related("category"), public_id=public_id
    )
    return render(request, "code_enforcement/submitted.html", {"service_request": service_request})


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest, public_id: str) -> HttpResponse:
    service_request = get_object_or_404(
        ServiceRequest.objects.select_related("category", "neighborhood", "duplicate_of"),
        public_id=public_id,
    )
    secret = _secret(request, public_id)
    if request.method == "GET" and "key" in request.GET:
        # Kept in the session; the address loses it (history, screenshots, referrers, logs).
        return redirect(service_request.get_absolute_url())
    reporter = service_request.is_reporter(user=request.user, secret=secret)
    info_form, reopen_form = AddInfoForm(prefix="info"), ReopenForm(prefix="reopen")
    if request.method == "POST":
        if not reporter:
            raise Http404
        try:
            if request.POST.get("action") == "info":
                info_form = AddInfoForm(request.POST, prefix="info")
                if info_form.is_valid():
                    services.request_add_info(
                        request=service_request,
                        text=info_form.cleaned_data["text"],
                        actor=request.user if request.user.is_authenticated else None,
                        secret=secret,
                    )
                    messages.success(request, _("Thank you. We added your information."))
                    return redirect(service_request.get_absolute_url())
            elif request.POST.get("action") == "reopen":
                reopen_form = ReopenForm(request.POST, prefix="reopen")
                if reopen_form.is_valid():
                    services.request_reopen(
                        request=service_request,
                        reason=reopen_form.cleaned_data["reason"],
                        actor=request.user if request.user.is_authenticated else None,
                        secret=secret,
                    )
                    messages.success(request, _("We reopened your report."))
                    return redirect(service_request.get_absolute_url())
        except (ValidationError, TransitionNotAllowed) as error:
            messages.error(request, getattr(error, "messages", [str(error)])[0])
    can_reopen = reporter and service_request.can_reopen()
    # A private category (neighbour noise, substandard housing): other people see only the
    # reference, the kind of problem and the status.
    full = reporter or _staff_can_see(request.user) or not service_request.category.sensitive
    events = service_request.events.all()
    if reporter:  # their own additions, even before staff publish them
        events = events.filter(
            Q(public=True) | Q(kind__in=[EventKind.INFO_ADDED, EventKind.REOPENED])
        )
    else:
        events = events.filter(public=True)
    return render(
        request,
        "code_enforcement/track.html",
        {
            "service_request": service_request,
            "full": full,
            "events": events if full else [],
            "photos": service_request.photos.filter(hidden=False) if full else [],
            "reporter": reporter,
            "info_form": info_form,
            "reopen_form": reopen_form,
            "can_reopen": can_reopen,
        },
    )


def _staff_can_see(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_staff
        and user.is_verified()
        and user.has_perm("code_enforcement.view_servicerequest")
    )


FOLLOW_CONFIRM = "follow-confirm"


@require_http_methods(["GET", "POST"])
def follow_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    """Type the code texted to the number given to follow a report."""
    original = get_object_or_404(ServiceRequest, public_id=public_id)
    follower_id = request.session.get(FOLLOW_CONFIRM)
    follower = Follower.objects.filter(pk=follower_id or -1, request=original).first()
    if follower is None:
        return redirect(original.get_absolute_url())
    form = FollowCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.follower_confirm(follower_id=follower.pk, code=form.cleaned_data["code"]):
            request.session.pop(FOLLOW_CONFIRM, None)
            messages.success(
                request, _("You are following this report. We will tell you when it changes.")
            )
            return redirect(original.get_absolute_url())
        form.add_error("code", _("That code is not right. Check the text message and try again."))
    return render(
        request,
        "code_enforcement/follow_confirm.html",
        {"form": form, "service_request": original, "phone": display_phone(follower.phone)},
    )


@public_page
@require_safe
def request_map(request: HttpRequest) -> HttpResponse:
    """The public map (JavaScript) with a plain list below it for everyone else."""
    category = ServiceCategory.objects.filter(
        code=request.GET.get("category"), sensitive=False
    ).first()
    page = Paginator(selectors.requests_public_open(category=category), 50).get_page(
        request.GET.get("page")
    )
    categories = ServiceCategory.objects.filter(is_active=True, sensitive=False)
    return render(
        request,
        "code_enforcement/map.html",
        {"page": page, "categories": categories, "category": category},
    )


@public_page
@require_safe
def request_map_data(request: HttpRequest) -> JsonResponse:
    category = ServiceCategory.objects.filter(
        code=request.GET.get("category"), sensitive=False
    ).first()
    return JsonResponse({"requests": selectors.map_points(category=category)})


@require_POST
def report_start_over(request: HttpRequest) -> HttpResponse:
    draft = request.session.pop(SESSION, None) or {}
    if draft.get("token"):
        # Starting over removes the photos too: it is no way around the five-photo limit.
        services.photos_discard_draft(draft_token=draft["token"])
    return redirect("code_enforcement:report")


@require_safe
def photo(request: HttpRequest, public_id: str, photo_id: int) -> FileResponse:
    """A report's photo, unless staff hid it; a draft's photo only to the browser that added it."""
    draft_token = (request.session.get(SESSION) or {}).get("token", "")
    if public_id == "draft":
        item = get_object_or_404(
            RequestPhoto, pk=photo_id, request__isnull=True, draft_token=draft_token or "-"
        )
    else:
        staff = _staff_can_see(request.user)
        visible = {} if staff else {"hidden": False}
        item = get_object_or_404(
            RequestPhoto.objects.select_related("request__category"),
            pk=photo_id,
            request__public_id=public_id,
            **visible,
        )
        if item.request.category.sensitive and not (
            staff or item.request.is_reporter(user=request.user, secret=_secret(request, public_id))
        ):
            raise Http404
    response = FileResponse(item.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response
