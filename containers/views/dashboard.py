"""Console pages: the dashboard and the HTMX partials it polls.

The dashboard is a summary: deployments and containers counted by state, what the desired
replicas reserve, the few deployments that most need a look (crash-looping and converging first)
with their containers counted by state, and the latest events. The full lists are a click away
(the deployments list, each deployment's page), so the dashboard costs the same with 500
containers as with 5. These views read the database mirror kept by the reconciler and never
call the engine, so the console stays fast, and readable while the engine is down. The host panel
(CPU, memory and disk), which does ask the engine, is the health app's (``health.console.host_partial``),
loaded after the page.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from containers import quotas
from containers.models import Container, Deployment, Event
from containers.views.events import events_queryset
from containers.views.htmx import partial_of, refresh_when_logged_out
from orchestrator_site.ranking import ValueRank
from tenancy.access import Access, access
from tenancy.roles import READ
from tenancy.scope import scope

RECENT_EVENTS = 10
DASHBOARD_DEPLOYMENTS = 10
# What the dashboard's rows and their state badge show: loading only these halves the cost of the ten
# rows (no env to decrypt, no limits, strategy or rollout fields to convert).
NEEDING_A_LOOK_FIELDS = ("name", "replicas", "state", "generation", "backoff_until", "last_error", "image__reference")


# An ORDER BY rank: crash-looping deployments first, then converging, running, stopped.
ATTENTION_ORDER = [Deployment.State.BACKOFF, Deployment.State.CONVERGING, Deployment.State.RUNNING]
ATTENTION_FIRST = ValueRank("state", {state: rank for rank, state in enumerate(ATTENTION_ORDER)}, len(ATTENTION_ORDER))


def deployments_needing_a_look(who: Access) -> list[Deployment]:
    """At most ``DASHBOARD_DEPLOYMENTS`` deployments, trouble first, each with ``running_count`` and
    ``containers_by_status``: two queries whatever the number of deployments and containers.

    Their containers are counted by (deployment, status) in one GROUP BY over those deployments
    only; no container row is fetched (the deployment's page lists them). Plain queries on
    purpose: compiling subqueries and window functions cost the ORM more than running them.
    """
    # Each also carries running_count and containers_by_status for the template (set below, not fields).
    rows = scope(Deployment.objects.select_related("image").only(*NEEDING_A_LOOK_FIELDS), who)
    deployments: list[Any] = list(rows.order_by(ATTENTION_FIRST.asc(), "name")[:DASHBOARD_DEPLOYMENTS])
    counts = (
        Container.objects.filter(deployment__in=[d.pk for d in deployments])
        .order_by()
        .values_list("deployment_id", "status", "generation")
        .annotate(n=Count("pk"))
    )
    generation = {d.pk: d.generation for d in deployments}
    by_deployment: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for deployment_id, status, container_generation, n in counts:
        total, current = by_deployment[deployment_id].get(status, (0, 0))
        # Running counts only the current generation: one being replaced by a new spec does not count.
        current += n if container_generation == generation[deployment_id] else 0
        by_deployment[deployment_id][status] = (total + n, current)
    for deployment in deployments:
        statuses = by_deployment[deployment.pk]
        deployment.running_count = statuses.get(Container.Status.RUNNING, (0, 0))[1]
        deployment.containers_by_status = [(s, statuses[s][0]) for s in Container.Status.values if s in statuses]
    return deployments


def by_state(rows: QuerySet, field: str, choices: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """``[(value, label, count), ...]`` in the choices' order, the states nothing is in left out."""
    # COUNT(*), not of a column: an index on (organization, field) alone answers it.
    counts = dict(rows.order_by().values_list(field).annotate(n=Count("*")))
    return [(value, label.lower(), counts[value]) for value, label in choices if counts.get(value)]


def summary(who: Access) -> dict[str, object]:
    """Deployments and containers counted by state, and what the desired replicas reserve: two queries.

    The deployments are counted and summed per state in one GROUP BY (a handful of rows), the totals
    added up here: one query fewer than an aggregate beside the count by state.
    """
    per_state = (
        scope(Deployment.objects.all(), who)
        .order_by()
        .values_list("state")
        .annotate(
            n=Count("pk"),
            desired=Sum("replicas"),
            cpu=Sum(F("cpu_limit") * F("replicas")),
            memory=Sum(F("memory_limit_bytes") * F("replicas")),
        )
    )
    deployments: dict[str, int] = {}
    desired, cpu, memory = 0, Decimal(0), 0
    for state, n, state_desired, state_cpu, state_memory in per_state:
        deployments[state] = n
        desired += state_desired or 0
        cpu += Decimal(state_cpu or 0)
        memory += state_memory or 0
    containers = by_state(scope(Container.objects.all(), who), "status", Container.Status.choices)
    return {
        "deployments_by_state": [
            (value, label.lower(), deployments[value])
            for value, label in Deployment.State.choices
            if deployments.get(value)
        ],
        "containers_by_status": containers,
        "containers_running": next((count for value, _, count in containers if value == "running"), 0),
        "deployments": sum(deployments.values()),
        "desired": desired,
        "cpu": cpu,
        "memory": memory,
    }


def deployments_context(request: HttpRequest) -> dict[str, object]:
    # The demo image is named in the empty state's example command.
    who = access(request)
    figures = summary(who)
    quota_rows: list[dict[str, Any]] = []
    if who.organization:
        # What a member's summary counts is exactly the organization's reservation: the quota rows reuse it
        # (staff see every organization's deployments, a role without read none: theirs is counted apart).
        reserved = reservation(figures) if not who.staff and who.can(READ) else None
        quota_rows = quotas.organization_usage(who.organization, reserved)
    return {
        "deployments": deployments_needing_a_look(who),
        "summary": figures,
        "demo_image": settings.DEMO_IMAGE,
        # Each quota of the current organization, used vs allowed.
        "quota_rows": quota_rows,
    }


def reservation(figures: dict[str, Any]) -> quotas.Reserved:
    return quotas.Reserved(
        cpu=figures["cpu"], memory=figures["memory"], containers=figures["desired"], deployments=figures["deployments"]
    )


def recent_events(request: HttpRequest) -> QuerySet[Event]:
    # The events page's rows (deployment name and container link in the one query), the caller's latest few.
    return events_queryset(request)[:RECENT_EVENTS]


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {**deployments_context(request), "events": recent_events(request)}
    return render(request, "containers/dashboard.html", context)


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("dashboard")
def deployments_partial(request: HttpRequest) -> HttpResponse:
    return render(request, "containers/partials/deployments.html", deployments_context(request))


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("dashboard")
def events_partial(request: HttpRequest) -> HttpResponse:
    return render(request, "containers/partials/events.html", {"events": recent_events(request)})
