"""Console pages: the dashboard and the HTMX partials it polls.

These views read the database mirror kept by the reconciler and never call the engine, so
the console stays fast, and readable while the engine is down.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRefresh

from containers.models import Container, Deployment, Event

RECENT_EVENTS = 10

View = Callable[..., HttpResponse]


def refresh_when_logged_out(view: View) -> View:
    """For a poll from an expired session, reload the page rather than swap the login form into a table.

    Without this, htmx follows ``login_required``'s redirect and puts the whole login page
    inside the dashboard. A full reload lets ``login_required`` redirect the browser itself.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            return HttpResponseClientRefresh()
        return view(request, *args, **kwargs)

    return wrapper


def deployments_queryset() -> QuerySet[Deployment]:
    """Deployments with everything the table shows, in a fixed number of queries whatever the row count.

    One query for the deployments (image joined, running containers counted in the database)
    and one prefetch for all their containers.
    """
    return (
        Deployment.objects.select_related("image")
        .annotate(running_count=Count("containers", filter=Q(containers__status=Container.Status.RUNNING)))
        .prefetch_related(Prefetch("containers", queryset=Container.objects.order_by("created_at", "pk")))
        .order_by("name")
    )


def deployments_context() -> dict[str, object]:
    # The demo image is named in the empty state's example command.
    return {"deployments": deployments_queryset(), "demo_image": settings.DEMO_IMAGE}


def recent_events() -> QuerySet[Event]:
    # The deployment is joined because every row shows its name.
    return Event.objects.select_related("deployment").order_by("-created_at", "-id")[:RECENT_EVENTS]


def fragment_or_dashboard(request: HttpRequest, template: str, context: dict[str, object]) -> HttpResponse:
    """A partial answers HTMX with its fragment; a browser opening its URL directly gets the dashboard."""
    if not request.htmx:
        return redirect("dashboard")
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {**deployments_context(), "events": recent_events()}
    return render(request, "containers/dashboard.html", context)


@require_GET
@refresh_when_logged_out
@login_required
def deployments_partial(request: HttpRequest) -> HttpResponse:
    return fragment_or_dashboard(request, "containers/partials/deployments.html", deployments_context())


@require_GET
@refresh_when_logged_out
@login_required
def events_partial(request: HttpRequest) -> HttpResponse:
    return fragment_or_dashboard(request, "containers/partials/events.html", {"events": recent_events()})
