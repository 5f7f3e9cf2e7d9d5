"""Console pages for images: the list with its upload and pull forms, and delete after a confirmation.

Every action calls ``containers.images`` (the functions the API calls too). A form sent by HTMX
gets its own fragment back — errors at the field, or a note of what happened — and, on success,
an ``images-changed`` event that makes the list reload itself. Without JavaScript the same forms
post normally: a redirect back to the list, or the page again with the errors.
"""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from containers import engine, images
from containers.api.images import LimitedUploadHandler, UploadTooLarge
from containers.image_forms import ImagePullForm, ImageUploadForm
from containers.models import Deployment, Image, actor_name
from containers.refusals import Refused
from containers.views.htmx import HtmxHttpRequest, partial_of, refresh_when_logged_out
from tenancy.access import access
from tenancy.console import require_role
from tenancy.scope import get_or_404, scope

PAGE = "containers/images/list.html"
UPLOAD = "containers/images/upload_form.html"
PULL = "containers/images/pull_form.html"
IMAGES_CHANGED = "images-changed"
# A form with errors answers 422, whatever the refusal's API status (400, 404, 409, 422): the
# fragment is the answer, and django-htmx's DEBUG script would replace the whole page on a 400 or 404.
FORM_ERRORS = 422


def images_queryset(request: HttpRequest) -> QuerySet[Image]:
    # "Used by" names and links every deployment: prefetched in one query, not one per image; only
    # the caller's own deployments (a shared image is used by other organizations too).
    who = access(request)
    deployments = scope(Deployment.objects.only("pk", "name", "image_id"), who).order_by("name")
    rows = scope(Image.objects.all(), who)
    return rows.prefetch_related(Prefetch("deployments", queryset=deployments)).order_by("reference")


def page_context(
    request: HttpRequest, upload_form: forms.Form | None = None, pull_form: forms.Form | None = None
) -> dict[str, object]:
    # The engine is the truth: images loaded or removed by hand show up (or go) on every view.
    images.sync_images()
    return {
        "images": images_queryset(request),
        "upload_form": upload_form or ImageUploadForm(),
        "pull_form": pull_form or ImagePullForm(),
    }


def form_with_error(form_class: type[forms.Form], field: str, message: str) -> forms.Form:
    """A form showing one refusal at ``field``, for a request whose body was never parsed."""
    form = form_class(data={})
    form.full_clean()
    form.errors.clear()  # "required" errors of the empty data: the refusal is the one that matters
    form.add_error(field, message)
    return form


def add_refusal(form: forms.Form, exc: Refused) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    # The engine's own words, shown under the message as a detail (templates/containers/form_field.html).
    form.refusal_detail = exc.detail  # type: ignore[attr-defined]


def answer(
    request: HtmxHttpRequest, template: str, form: forms.Form, note: str = "", status: int = 200
) -> HttpResponse:
    """HTMX gets the form's fragment (and the list a reload on success); a plain post the page or a redirect."""
    if request.htmx:
        response = render(request, template, {"form": form, "note": note}, status=status)
        return trigger_client_event(response, IMAGES_CHANGED) if status < 400 else response
    if status < 400:
        messages.success(request, note)
        return redirect("console-images")
    key = "upload_form" if isinstance(form, ImageUploadForm) else "pull_form"
    return render(request, PAGE, page_context(request, **{key: form}), status=status)


@require_GET
@login_required
def image_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, PAGE, page_context(request))


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("console-images")
def images_partial(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "containers/images/table.html", page_context(request))


# Django reads the body looking for the CSRF token, so the size-capped upload handler has to be in
# place first: the check runs in upload_checked, once it is (Django's documented pattern).
@csrf_exempt
@require_POST
@login_required
def image_upload(request: HtmxHttpRequest) -> HttpResponse:
    require_role(request)
    request.upload_handlers = [LimitedUploadHandler(request)]
    try:
        return upload_checked(request)
    except UploadTooLarge as exc:
        return answer(request, UPLOAD, form_with_error(ImageUploadForm, "file", exc.message), status=exc.status)


@csrf_protect
def upload_checked(request: HtmxHttpRequest) -> HttpResponse:
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return answer(request, UPLOAD, form, status=FORM_ERRORS)
    upload = form.cleaned_data["file"]
    try:
        loaded = images.upload_image(
            Path(upload.temporary_file_path()),
            actor=actor_name(request.user),
            replace=form.cleaned_data.get("replace", False),
            user=request.user,
            organization=access(request).organization,
        )
    except engine.InvalidImageArchive as exc:
        form.add_error("file", str(exc))
        return answer(request, UPLOAD, form, status=FORM_ERRORS)
    except Refused as exc:  # a tag that names another image, or a replace by someone not allowed
        form.add_error("replace" if exc.field == "replace" else "file", exc.message)
        return answer(request, UPLOAD, form, status=FORM_ERRORS)
    finally:
        upload.close()  # a temporary upload deletes its file on close
    return answer(request, UPLOAD, ImageUploadForm(), loaded.summary())


@sensitive_post_parameters("password")
@require_POST
@login_required
def image_pull(request: HtmxHttpRequest) -> HttpResponse:
    require_role(request)
    form = ImagePullForm(request.POST)
    if not form.is_valid():
        return answer(request, PULL, form, status=FORM_ERRORS)
    data = form.cleaned_data
    try:
        image = images.pull_image(
            data["reference"],
            data["username"],
            data["password"],
            actor=actor_name(request.user),
            user=request.user,
            organization=access(request).organization,
        )
    except Refused as exc:
        add_refusal(form, exc)
        return answer(request, PULL, form, status=FORM_ERRORS)
    return answer(request, PULL, ImagePullForm(), f"Pulled {image.reference}.")


@require_http_methods(["GET", "POST"])
@login_required
def image_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (and says which deployments stand in the way); POST deletes."""
    who = access(request)
    image = get_or_404(images_queryset(request), who, pk=pk)
    require_role(request)
    context: dict[str, object] = {"image": image, "used_by": list(image.deployments.all())}
    if request.method == "GET":
        return render(request, "containers/images/confirm_delete.html", context)
    try:
        images.delete_image(image, actor=actor_name(request.user), organization=None if who.staff else who.organization)
    except Refused as exc:
        return render(
            request, "containers/images/confirm_delete.html", {**context, "error": exc.message}, status=exc.status
        )
    messages.success(request, f"Deleted {image.reference}.")
    return redirect("console-images")
