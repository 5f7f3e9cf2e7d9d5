"""Console page for the event log: filtered with the API's ``EventFilterSet``, paginated, exported as CSV.

A bad filter value is shown at its field with no rows (never a silently unfiltered list), as the
API answers it with a 400.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from containers.filtersets import EventFilterSet
from containers.models import Container, Deployment, Event
from containers.views.paging import CappedPaginator
from orchestrator_site.csvcells import safe_row
from tenancy.access import access
from tenancy.scope import scope

PAGE_SIZE = 50
CSV_HEADER = ["time", "actor", "kind", "deployment", "container", "message", "before", "after"]


def events_queryset(request: HttpRequest) -> QuerySet[Event]:
    """Events with what each row shows, in one query whatever the row count.

    The deployment's name is joined in as a column (the rows need nothing else of it, and building
    a Deployment per row cost more than the rest of the query); the container's row id (for a link
    to its page, while the container still exists) comes from a subquery on the unique docker id.
    """
    container_pk = Container.objects.filter(docker_id=OuterRef("container_docker_id")).values("pk")[:1]
    return (
        scope(Event.objects.all(), access(request))
        .annotate(deployment_name=F("deployment__name"), container_pk=Subquery(container_pk))
        .order_by("-created_at", "-id")
    )


KINDS_CACHE_KEY = "console:event-kinds"
KINDS_CACHE_S = 60


def event_kinds() -> list[str]:
    """The kinds to choose from: those that occur. Reading them scans the whole kind index (~20 ms at 50,000
    events), so they are kept for a minute: a kind new in the last minute is still accepted when typed."""
    kinds = cache.get(KINDS_CACHE_KEY)
    if kinds is None:
        kinds = list(Event.objects.order_by("kind").values_list("kind", flat=True).distinct())
        cache.set(KINDS_CACHE_KEY, kinds, KINDS_CACHE_S)
    return list(kinds)


def filtered(request: HttpRequest, queryset: QuerySet[Event]) -> EventFilterSet:
    return EventFilterSet(request.GET, queryset=queryset)


@require_GET
@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    filterset = filtered(request, events_queryset(request))
    valid = filterset.is_valid()
    # Counted only a thousand events past the page: the event log grows without end.
    asked = request.GET.get("page")
    page = CappedPaginator(filterset.qs if valid else Event.objects.none(), PAGE_SIZE, asked).get_page(asked)
    # For the deployment select, (pk, name) pairs: as many as there are deployments, so no model instances.
    # A deleted deployment's id is still accepted (events outlive it).
    deployments = list(scope(Deployment.objects.all(), access(request)).order_by("name").values_list("pk", "name"))
    # Kind names only (a fixed vocabulary), cached for everyone: no customer data in them.
    kinds = event_kinds()
    context = {
        "kinds": kinds,
        "kind_prefixes": sorted({kind.split(".", 1)[0] + "." for kind in kinds if "." in kind}),
        "filterset": filterset,
        "page": page,
        "events": page.object_list,
        "filtering": any(value for key, value in request.GET.items() if key != "page"),
        "deployments": deployments,
        "deployment_ids": {str(pk) for pk, _ in deployments},
    }
    return render(request, "containers/events/list.html", context, status=200 if valid else 400)


class Echo:
    """A file-like object whose ``write`` hands the line back, so ``csv.writer`` can feed a stream."""

    def write(self, value: str) -> str:
        return value


def as_json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True)


def csv_lines(events: QuerySet[Event]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(CSV_HEADER)
    # iterator(): rows stream from the database in chunks instead of all sitting in memory.
    for event in events.iterator(chunk_size=1000):
        # Actors, names and messages come from users: no cell may be opened as a formula.
        yield writer.writerow(
            safe_row(
                [
                    event.created_at.isoformat(),
                    event.actor,
                    event.kind,
                    event.deployment.name if event.deployment else "",
                    event.container_docker_id,
                    event.message,
                    as_json(event.before),
                    as_json(event.after),
                ]
            )
        )


@require_GET
@login_required
def event_export(request: HttpRequest) -> HttpResponseBase:
    """Every event the filter matches (all pages, not just one) as CSV, streamed."""
    # No container links in a CSV: just the deployment's name, joined.
    rows = scope(Event.objects.select_related("deployment"), access(request))
    filterset = filtered(request, rows.order_by("-created_at", "-id"))
    if not filterset.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in filterset.errors.items())
        return HttpResponseBadRequest(f"invalid filter: {problems}\n", content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(csv_lines(filterset.qs), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="events-{stamp}.csv"'
    return response
