"""Console pages for deployments: the list with inline scaling, create and edit with a plan preview,
the detail page with its live containers and timeline, stop and delete after a confirmation.

Every change goes through ``containers.deployments`` (the functions the API calls). Forms work
without JavaScript (a post, then a redirect or the page again with the errors at the fields);
with HTMX the same views answer with the fragment to swap. The plan preview
(``containers.preview``) asks the engine what reconcile would do, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from containers import deployments, engine, hooks, rollouts
from containers.filtersets import DeploymentFilterSet
from containers.forms import DeploymentEditForm, DeploymentForm, ScaleForm
from containers.models import Container, Deployment, Event, actor_name
from containers.preview import Preview, preview_create, preview_scale, preview_update
from containers.refusals import Refused
from containers.views.counts import running_count
from containers.views.htmx import STOP_POLLING, HtmxHttpRequest, partial_of, refresh_when_logged_out
from tenancy.access import access
from tenancy.console import require_role
from tenancy.scope import get_or_404, scope

TIMELINE_EVENTS = 50
PAGE_SIZE = 25
T = "containers/deployments/"


# --- queries: every query these pages make is here ------------------------------------


def list_queryset(request: HttpRequest) -> QuerySet[Deployment]:
    """The caller's deployments in one query whatever the number of rows: the image is joined (every
    row names it) and the running containers of the current generation are counted by the database
    (one being replaced by a new spec does not count)."""
    rows = Deployment.objects.select_related("image").annotate(running_count=running_count()).order_by("name")
    return scope(rows, access(request))


def one(request: HttpRequest, pk: int) -> Deployment:
    """The caller's deployment ``pk``, or 404 (another organization's is as missing as a deleted one)."""
    return get_or_404(Deployment.objects.select_related("image"), access(request), pk=pk)


def filtered(request: HtmxHttpRequest) -> DeploymentFilterSet:
    # The same FilterSet as GET /api/deployments/, on the list's own queryset.
    # The list shows no env: not decrypting 25 of them saves a tenth of the page.
    filterset = DeploymentFilterSet(request.GET or None, queryset=list_queryset(request).defer("env"))
    state = filterset.form.fields["state"]
    state.empty_label, state.choices = "any state", Deployment.State.choices  # the setter re-reads the label
    filterset.form.fields["image"].widget.attrs["placeholder"] = "team/web:1.2"
    return filterset


def list_context(request: HtmxHttpRequest) -> dict[str, object]:
    """The filter form and a page of its rows; a bad filter value lists nothing (its error shows), never everything."""
    filterset = filtered(request)
    valid = not filterset.is_bound or filterset.is_valid()
    page = Paginator(filterset.qs if valid else filterset.queryset.none(), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "filter": filterset,
        "page": page,
        "deployments": page.object_list,
        "filtering": any(value for key, value in request.GET.items() if key != "page"),
    }


def containers_of(deployment: Deployment) -> QuerySet[Container]:
    # Oldest first: the order reconcile plans in, so a scale-down removes from the bottom.
    return deployment.containers.order_by("created_at", "pk")


# How long a replaced container stays marked under the containers table.
REPLACED_FOR = timedelta(minutes=10)


def replaced_of(deployment: Deployment, containers: QuerySet[Container]) -> list[Event]:
    """Deaths of the last minutes whose container is gone (replaced by reconcile), newest first: the
    containers table would otherwise just show a new name where the dead one was."""
    since = timezone.now() - REPLACED_FOR
    return list(
        Event.objects.filter(deployment=deployment, kind="container.died", created_at__gte=since)
        .exclude(container_docker_id__in=containers.values("docker_id"))
        .order_by("-created_at", "-id")[:10]
    )


def timeline_of(deployment: Deployment) -> QuerySet[Event]:
    # The deployment is known: no join needed for the rows.
    return Event.objects.filter(deployment=deployment).order_by("-created_at", "-id")[:TIMELINE_EVENTS]


# --- helpers ----------------------------------------------------------------------------


def add_refusal(form: forms.Form, exc: Refused | engine.EngineUnavailable) -> None:
    """A refusal is shown at the field it names, or at the top of the form."""
    field = getattr(exc, "field", None)
    message = getattr(exc, "message", None) or f"The Docker engine is not answering: {exc}"
    named = [name for name in getattr(exc, "fields", {}) if name in form.fields]
    if field is None and "replicas" in named:
        # Admission names each limit and replicas: the whole message goes at replicas, the field
        # that asks for the room; the others are marked too.
        form.add_error("replicas", message)
        for name in named:
            if name != "replicas":
                form.add_error(name, exc.fields[name])  # type: ignore[union-attr]
        return
    form.add_error(field if field in form.fields else None, message)


def form_response(
    request: HtmxHttpRequest,
    form: forms.Form,
    deployment: Deployment | None = None,
    *,
    previewed: bool = False,
    preview: Preview | None = None,
) -> HttpResponse:
    """HTMX gets the form's fragment (errors at the fields, the preview under it); a browser the page."""
    context = {"form": form, "deployment": deployment, "preview": preview, "previewed": previewed}
    return render(request, T + ("form.html" if request.htmx else "form_page.html"), context)


def applied(request: HtmxHttpRequest, deployment: Deployment, note: str) -> HttpResponse:
    messages.success(request, note)
    url = reverse("console-deployment", args=[deployment.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def back_to(request: HtmxHttpRequest, deployment_pk: int) -> HttpResponse:
    """Without JavaScript, a scale goes back where it came from (the list or the detail page)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("console-deployment", pk=deployment_pk)


def try_preview(form: forms.Form, make: Callable[[], Preview]) -> Preview | None:
    """The preview, or None with the reason on the form (invalid input, the engine not answering).
    A refusal the preview foresees is also marked at the field it names, as applying would mark it."""
    if not form.is_valid():
        return None
    try:
        preview = make()
    except engine.EngineUnavailable as exc:
        add_refusal(form, exc)
        return None
    if preview.refusal and preview.refusal_field in form.fields:
        form.add_error(preview.refusal_field, preview.refusal)
    return preview


# --- the list -------------------------------------------------------------------------


@require_GET
@login_required
def deployment_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, T + "list.html", list_context(request))


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("console-deployments", keep_query=True)
def deployment_rows(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, T + "rows.html", list_context(request))


# --- create and edit ----------------------------------------------------------------------


def created_note(deployment: Deployment) -> str:
    if not deployment.replicas:
        return f"Created {deployment.name} with 0 replicas: nothing runs until you scale it up."
    count = deployment.replicas
    return f"Created {deployment.name}; reconcile is starting {count} container{'s' if count != 1 else ''}."


@require_http_methods(["GET", "POST"])
@login_required
def deployment_create(request: HtmxHttpRequest) -> HttpResponse:
    require_role(request)
    form = DeploymentForm(request.POST if request.method == "POST" else None, organization=access(request).organization)
    if form.is_bound and form.is_valid():
        try:
            deployment = deployments.create_deployment(
                actor=actor_name(request.user), organization=access(request).organization, **form.values()
            )
        except (Refused, engine.EngineUnavailable) as exc:
            add_refusal(form, exc)
        else:
            return applied(request, deployment, created_note(deployment))
    return form_response(request, form)


@require_POST
@login_required
def deployment_create_preview(request: HtmxHttpRequest) -> HttpResponse:
    require_role(request)
    form = DeploymentForm(request.POST, organization=access(request).organization)
    preview = try_preview(form, lambda: preview_create(form.values()))
    return form_response(request, form, previewed=True, preview=preview)


@require_http_methods(["GET", "POST"])
@login_required
def deployment_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = one(request, pk)
    require_role(request)
    form = DeploymentEditForm(request.POST if request.method == "POST" else None, deployment=deployment)
    if form.is_bound and form.is_valid():
        try:
            deployments.update_deployment(deployment, actor=actor_name(request.user), **form.changes())
        except (Refused, engine.EngineUnavailable) as exc:
            add_refusal(form, exc)
        else:
            return applied(request, deployment, f"Saved {deployment.name}; reconcile is applying the change.")
    return form_response(request, form, deployment)


@require_POST
@login_required
def deployment_edit_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = one(request, pk)
    require_role(request)
    form = DeploymentEditForm(request.POST, deployment=deployment)
    preview = try_preview(form, lambda: preview_update(deployment, form.changes()))
    return form_response(request, form, deployment, previewed=True, preview=preview)


# --- scale, stop, delete ------------------------------------------------------------------


@require_POST
@login_required
def deployment_scale(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = one(request, pk)
    require_role(request)
    form = ScaleForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(str(e) for e in form.errors.get("replicas", form.errors.get("step", [])))
    elif (replicas := form.target(deployment.replicas)) != deployment.replicas:
        try:
            deployments.scale(deployment, replicas, actor=actor_name(request.user))
        except Refused as exc:
            error = exc.message
    return scaled(request, pk, error)


def scaled(request: HtmxHttpRequest, pk: int, error: str) -> HttpResponse:
    """The list's row (HTMX from the list), the detail page's scale form (HTMX from there), or a redirect."""
    deployment = get_or_404(list_queryset(request), access(request), pk=pk)
    if request.htmx and (request.htmx.target or "").startswith("deployment-row-"):
        return render(request, T + "row.html", {"deployments": [deployment], "error": error})
    if request.htmx:
        return render(request, T + "scale_form.html", {"deployment": deployment, "error": error, "scaled": not error})
    if error:
        messages.error(request, f"{deployment.name}: {error}")
    return back_to(request, pk)


@require_POST
@login_required
def deployment_scale_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = get_or_404(list_queryset(request), access(request), pk=pk)
    require_role(request)
    form = ScaleForm(request.POST)
    preview = try_preview(form, lambda: preview_scale(deployment, form.target(deployment.replicas)))
    error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context = {"deployment": deployment, "preview": preview, "previewed": True, "error": error, "form": form}
    return render(request, T + ("scale_form.html" if request.htmx else "scale_preview_page.html"), context)


@require_http_methods(["GET", "POST"])
@login_required
def deployment_stop(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation and shows which containers go; POST stops (replicas 0, the row stays)."""
    deployment = one(request, pk)
    require_role(request)
    if request.method == "GET":
        context = {"deployment": deployment, "preview": preview_scale(deployment, 0)}
        return render(request, T + "confirm_stop.html", context)
    deployments.stop(deployment, actor=actor_name(request.user))
    messages.success(request, f"Stopped {deployment.name}: reconcile is removing its containers.")
    return redirect("console-deployment", pk=pk)


@require_http_methods(["GET", "POST"])
@login_required
def deployment_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation and shows which containers go; POST removes them and the deployment."""
    deployment = one(request, pk)
    require_role(request)
    if request.method == "GET":
        context = {"deployment": deployment, "preview": preview_scale(deployment, 0)}
        return render(request, T + "confirm_delete.html", context)
    deployments.delete_deployment(deployment, actor=actor_name(request.user))
    messages.success(request, f"Deleted {deployment.name} and its containers.")
    return redirect("console-deployments")


# --- the detail page -------------------------------------------------------------------------


def rollout_context(deployment: Deployment, containers: QuerySet[Container]) -> dict[str, object]:
    """The rollout's progress bar and the kept revisions (newest first), for the detail page and its poll."""
    progress = rollouts.status(deployment, list(containers))
    revisions = list(deployment.revisions.order_by("-number"))
    return {
        "rollout": progress,
        "rollout_percent": round(100 * progress.ready / progress.replicas) if progress.replicas else 100,
        "revisions": [(revision, rollouts.summary(revision)) for revision in revisions],
    }


@require_GET
@login_required
def deployment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = get_or_404(list_queryset(request), access(request), pk=pk)
    containers = containers_of(deployment)
    context = {
        "deployment": deployment,
        "containers": containers,
        "replaced": replaced_of(deployment, containers),
        "events": timeline_of(deployment),
        "lb_url": hooks.lb_urls_for([deployment.name]).get(deployment.name) if deployment.container_port else None,
        **rollout_context(deployment, containers),
    }
    return render(request, T + "detail.html", context)


@require_POST
@login_required
def deployment_rollback(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Roll back to the revision posted (default: the previous one), through the rolling path."""
    deployment = one(request, pk)
    require_role(request)
    raw = request.POST.get("revision", "").strip()
    if raw and not raw.isdigit():
        messages.error(request, "revision must be a revision number")
        return redirect("console-deployment", pk=pk)
    try:
        deployments.rollback(deployment, actor=actor_name(request.user), revision=int(raw) if raw else None)
    except (Refused, engine.EngineUnavailable) as exc:
        messages.error(request, f"Not rolled back: {exc}")
    else:
        messages.success(request, f"Rolling {deployment.name} back: revision {deployment.generation} is rolling out.")
    return redirect("console-deployment", pk=pk)


@require_POST
@login_required
def deployment_pause(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Pause the deployment's rollouts (what runs stays)."""
    return _pause_or_resume(request, pk, pause=True)


@require_POST
@login_required
def deployment_resume(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Resume a paused (or failed) rollout."""
    return _pause_or_resume(request, pk, pause=False)


def _pause_or_resume(request: HtmxHttpRequest, pk: int, *, pause: bool) -> HttpResponse:
    deployment = one(request, pk)
    require_role(request)
    action = deployments.pause if pause else deployments.resume
    try:
        action(deployment, actor=actor_name(request.user))
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{deployment.name}: rollouts {'paused' if pause else 'resumed'}.")
    return redirect("console-deployment", pk=pk)


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("console-deployment")
def deployment_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = list_queryset(request).filter(pk=pk).first()
    if deployment is None:
        return render(request, T + "status.html", {"gone": True}, status=STOP_POLLING)
    containers = containers_of(deployment)
    context = {
        "deployment": deployment,
        "containers": containers,
        "replaced": replaced_of(deployment, containers),
        **rollout_context(deployment, containers),
    }
    return render(request, T + "status.html", context)


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("console-deployment")
def deployment_timeline(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = scope(Deployment.objects.filter(pk=pk), access(request)).only("pk").first()
    if deployment is None:
        return HttpResponse(status=STOP_POLLING)
    return render(request, T + "timeline.html", {"deployment": deployment, "events": timeline_of(deployment)})
