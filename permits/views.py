from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from cityhall.access import log_access
from cityhall.links import site_url
from cityhall.pagecache import public_page

from . import opendata, selectors, services
from .constants import PAYABLE_STATUSES, Status
from .forms import (
    ApplicantForm,
    DeclareForm,
    DocumentForm,
    InfoAnswerForm,
    InspectionRequestForm,
    ProjectForm,
    QuestionsForm,
    SearchForm,
)
from .models import Application, Document, PermitType
from .workflow import TransitionNotAllowed


@public_page
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "permits/index.html", {"types": selectors.permit_types_offered()})


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    """Choose a type (GET ?type=CODE shows it), then start a draft (POST)."""
    code = request.POST.get("type") or request.GET.get("type")
    permit_type = PermitType.objects.filter(code=code, is_active=True).first() if code else None
    if request.method == "POST" and permit_type is not None:
        application = services.application_start(applicant=request.user, permit_type=permit_type)
        return redirect("permits:task_list", public_id=application.public_id)
    drafts = selectors.drafts_for_resident(user=request.user)
    return render(
        request,
        "permits/apply.html",
        {"permit_type": permit_type, "types": selectors.permit_types_offered(), "drafts": drafts},
    )


def _draft(request: HttpRequest, public_id) -> Application:
    # Someone else's application is "not found": its existence is not disclosed.
    application = get_object_or_404(
        Application.objects.select_related("permit_type"),
        public_id=public_id,
        applicant=request.user,
    )
    if application.status != Status.DRAFT:
        raise Http404
    return application


@login_required
@require_safe
def task_list(request: HttpRequest, public_id) -> HttpResponse:
    application = _draft(request, public_id)
    missing = services.application_missing(application)
    return render(
        request,
        "permits/task_list.html",
        {"application": application, "missing": missing, "fee": services.fee_for(application)},
    )


def _section(request, public_id, form_class, title, fields_from_form):
    application = _draft(request, public_id)
    form = (
        form_class(request.POST or None, instance=application)
        if form_class in (ApplicantForm, ProjectForm)
        else None
    )
    if form is None:
        form = form_class(request.POST or None, application=application)
    if request.method == "POST" and form.is_valid():
        services.application_update(
            application=application, actor=request.user, fields=fields_from_form(form)
        )
        messages.success(request, _("Saved."))
        if request.GET.get("from") == "review":  # "Change" on the check-your-answers page
            return redirect("permits:section_review", public_id=application.public_id)
        return redirect("permits:task_list", public_id=application.public_id)
    return render(
        request,
        "permits/section_form.html",
        {
            "application": application,
            "form": form,
            "title": title,
            "from_review": request.GET.get("from") == "review",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def section_applicant(request, public_id):
    return _section(
        request, public_id, ApplicantForm, _("Applicant and property"), lambda f: f.cleaned_data
    )


@login_required
@require_http_methods(["GET", "POST"])
def section_project(request, public_id):
    return _section(request, public_id, ProjectForm, _("Project details"), lambda f: f.cleaned_data)


@login_required
@require_http_methods(["GET", "POST"])
def section_questions(request, public_id):
    return _section(
        request,
        public_id,
        QuestionsForm,
        _("Questions about your project"),
        lambda f: {"answers": f.answers()},
    )


OTHER_SLOT = "other"


def _document_slots(application: Application, posted: tuple[str, DocumentForm] | None):
    """The documents page's upload slots: one per document the type asks for, then "Other
    documents". Each lists its files and has its own upload form; only the slot that was just
    posted to carries the posted form (and its errors), so the others stay as they were."""
    documents = list(application.documents.select_related("requirement"))
    slots = []
    keys = [
        (str(r.pk), r, r.t("name"), r.required)
        for r in application.permit_type.document_requirements.all()
    ]
    keys.append((OTHER_SLOT, None, _("Other documents"), False))
    for key, requirement, name, required in keys:
        form = posted[1] if posted and posted[0] == key else DocumentForm(prefix=f"slot-{key}")
        files = [
            d for d in documents if d.requirement_id == (requirement.pk if requirement else None)
        ]
        slots.append(
            {
                "key": key,
                "name": name,
                "required": required,
                "files": files,
                "form": form,
                "other": requirement is None,
            }
        )
    return slots


@login_required
@require_http_methods(["GET", "POST"])
def section_documents(request, public_id):
    application = _draft(request, public_id)
    posted = None
    if request.method == "POST" and request.POST.get("remove"):
        document = get_object_or_404(Document, pk=request.POST["remove"], application=application)
        services.document_remove(document=document, actor=request.user)
        messages.success(request, _("%(file)s was removed.") % {"file": document.original_name})
        return redirect("permits:section_documents", public_id=public_id)
    if request.method == "POST":
        key = request.POST.get("slot", "")
        if key == OTHER_SLOT:
            requirement = None
        else:
            requirement = get_object_or_404(
                application.permit_type.document_requirements, pk=key if key.isdigit() else 0
            )
        form = DocumentForm(request.POST, request.FILES, prefix=f"slot-{key}")
        if form.is_valid():
            document = services.document_add(
                application=application,
                actor=request.user,
                uploaded=form.cleaned_data["file"],
                requirement=requirement,
            )
            what = requirement.t("name") if requirement else _("Other documents")
            messages.success(
                request,
                _("%(file)s was uploaded as: %(document)s.")
                % {"file": document.original_name, "document": what},
            )
            return redirect(request.get_full_path())
        posted = (key, form)
    return render(
        request,
        "permits/section_documents.html",
        {
            "application": application,
            "slots": _document_slots(application, posted),
            "from_review": request.GET.get("from") == "review",
            "has_errors": posted is not None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def section_review(request, public_id):
    application = _draft(request, public_id)
    form = DeclareForm(request.POST or None)
    missing = services.application_missing(application)
    if request.method == "POST" and form.is_valid():
        application = services.application_declare(application=application, actor=request.user)
        try:
            application = services.application_submit(application=application, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            return redirect("permits:submitted", number=application.number)
    return render(
        request,
        "permits/section_review.html",
        {
            "application": application,
            "form": form,
            "missing": {k: v for k, v in missing.items() if k != "declare" and v},
            "fee": services.fee_for(application),
            "fee_basis": selectors.fee_basis(application),
            "sections": selectors.review_sections(application),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, public_id):
    """Delete a draft, or withdraw a submitted application: a page that says what happens
    first, then the same page's button (nothing happens on the first click)."""
    application = get_object_or_404(
        Application.objects.select_related("permit_type"),
        public_id=public_id,
        applicant=request.user,
    )
    draft = application.status == Status.DRAFT
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        try:
            services.application_withdraw(application=application, actor=request.user)
        except TransitionNotAllowed:
            messages.error(request, _("This application can no longer be withdrawn."))
        else:
            if draft:
                messages.success(request, _("The draft was deleted."))
            else:
                messages.success(
                    request,
                    _("Application %(number)s was withdrawn. We have told the permit office.")
                    % {"number": application.number},
                )
        return redirect("portal:me")
    back = (
        reverse("permits:task_list", args=[application.public_id])
        if draft
        else reverse("permits:detail", args=[application.number])
    )
    return render(
        request, "permits/withdraw.html", {"application": application, "draft": draft, "back": back}
    )


def _own(request: HttpRequest, number: str) -> Application:
    return get_object_or_404(
        # The fee ledger once: balance, credit and amount paid all read it.
        Application.objects.select_related("permit_type", "renews").prefetch_related("payments"),
        number=number,
        applicant=request.user,
    )


@login_required
@require_safe
def submitted(request, number):
    return render(request, "permits/submitted.html", {"application": _own(request, number)})


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, number):
    application = _own(request, number)
    answer_form = InfoAnswerForm(prefix="info")
    inspection_form = InspectionRequestForm(prefix="inspection", application=application)
    action = request.POST.get("action")
    if request.method == "POST" and action == "answer":
        answer_form = InfoAnswerForm(request.POST, request.FILES, prefix="info")
        if answer_form.is_valid() and application.status != Status.INFO_REQUESTED:
            # Sent twice (a double click, the back button): the first answer already counted.
            messages.info(request, _("Your answer was already sent; the review continues."))
            return redirect("permits:detail", number=number)
        if answer_form.is_valid():
            if answer_form.cleaned_data.get("file"):
                services.document_add(
                    application=application,
                    actor=request.user,
                    uploaded=answer_form.cleaned_data["file"],
                )
            services.info_answer(
                application=application,
                actor=request.user,
                answer=answer_form.cleaned_data["answer"],
            )
            messages.success(
                request, _("Thank you. Your answer was sent and the review continues.")
            )
            return redirect("permits:detail", number=number)
    if request.method == "POST" and action == "inspection":
        inspection_form = InspectionRequestForm(
            request.POST, prefix="inspection", application=application
        )
        if inspection_form.is_valid():
            try:
                services.inspection_request(
                    application=application,
                    actor=request.user,
                    inspection_type=inspection_form.cleaned_data["inspection_type"],
                    preferred_dates=inspection_form.cleaned_data["preferred_dates"],
                )
            except ValidationError as error:
                inspection_form.add_error("inspection_type", error.messages[0])
            else:
                messages.success(request, _("Inspection requested. We will tell you the date."))
                return redirect("permits:detail", number=number)
    return render(
        request,
        "permits/detail.html",
        {
            "application": application,
            "events": application.events.filter(public=True),
            "open_request": application.info_requests.filter(answered_at__isnull=True).last(),
            "answer_form": answer_form,
            "inspection_form": inspection_form,
            "inspections": application.inspections.select_related("inspection_type"),
            "payments": application.payments.select_related("online_payment"),
            "can_pay": application.balance > 0 and application.status in PAYABLE_STATUSES,
            "documents": application.documents.all(),
            "next_step": selectors.next_step(application),
        },
    )


@login_required
@require_POST
def renew(request, number):
    application = _own(request, number)
    try:
        renewal = services.renewal_start(application=application, actor=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("permits:detail", number=number)
    if renewal.status != Status.DRAFT:
        return redirect("permits:detail", number=renewal.number)
    return redirect("permits:task_list", public_id=renewal.public_id)


@login_required
@require_safe
def document(request, public_id, document_id):
    """A document, to its applicant or to staff who may see applications (verified 2FA)."""
    doc = get_object_or_404(
        Document.objects.select_related("application"),
        pk=document_id,
        application__public_id=public_id,
    )
    user = request.user
    is_owner = doc.application.applicant_id == user.pk
    is_staff = user.is_staff and user.is_verified() and user.has_perm("permits.view_application")
    if not (is_owner or is_staff):
        raise Http404
    if is_staff and not is_owner:
        log_access(request, what="application document", record=doc.application)
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type)
    inline = bool(request.GET.get("inline"))
    response["Content-Disposition"] = (
        f'{"inline" if inline else "attachment"}; filename="{doc.file.name.rsplit("/", 1)[-1]}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    if inline:
        # Shown inside the console's permit page (a PDF in a frame): framed by our own pages
        # only. The file itself may run nothing.
        from django.utils.csp import CSP

        response["X-Frame-Options"] = "SAMEORIGIN"
        response._csp_config = {
            "default-src": [CSP.NONE],
            "img-src": [CSP.SELF],
            "object-src": [CSP.SELF],
            "frame-ancestors": [CSP.SELF],
        }
    return response


@public_page  # public records: the same answer for everyone who asks the same question
@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        results = Paginator(
            selectors.permits_public_search(query=form.cleaned_data["q"]), 25
        ).get_page(request.GET.get("page"))
    return render(request, "permits/search.html", {"form": form, "results": results})


@require_safe
def open_data(request: HttpRequest, dataset: str, fmt: str) -> HttpResponse:
    """Building permits in the Building & Land Development Specification (BLDS) fields, and
    licences in their own dataset; CSV or JSON. Small datasets are streamed from the database;
    large ones are served from the file the worker keeps up to date (`permits.opendata`), whole,
    so a download is never cut off by a timeout. Conditional GET answers 304 while nothing
    changed, so pollers download a dataset only when it did."""
    tag, last_modified, rows = opendata.version(dataset)
    built = None
    if rows > settings.OPEN_DATA_LIVE_ROWS:
        built = opendata.current(dataset, fmt)
        if built is None or built.version != tag:
            opendata.request_refresh()
        if built is None:
            response = render(
                request,
                "permits/open_data_preparing.html",
                {"minutes": -(-opendata.RETRY_SECONDS // 60)},
                status=503,
            )
            response["Retry-After"] = str(opendata.RETRY_SECONDS)
            return response
        tag, last_modified = built.version, built.last_modified
    etag = quote_etag(f"{tag}-{fmt}")
    stamp = int(last_modified.timestamp()) if last_modified else None
    not_modified = get_conditional_response(request, etag=etag, last_modified=stamp)
    if not_modified is not None:
        return not_modified
    content_type = "application/json; charset=utf-8" if fmt == "json" else "text/csv; charset=utf-8"
    if built is not None:
        response = FileResponse(built.path.open("rb"), content_type=content_type)
        response["X-Data-Built-At"] = built.built_at.isoformat()
    else:
        response = StreamingHttpResponse(
            opendata.chunks(dataset, fmt, base_url=site_url()), content_type=content_type
        )
    if fmt == "csv":
        response["Content-Disposition"] = f'attachment; filename="{dataset}.csv"'
    response["ETag"] = etag
    if stamp is not None:
        response["Last-Modified"] = http_date(stamp)
    response["Cache-Control"] = "public, max-age=300"
    return response
