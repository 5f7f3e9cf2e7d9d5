"""Console pages for container health: the fleet page (every container's class and figures) and one
container's charts.

The fleet page reads a page of containers with their :class:`ContainerHealth` row, rewritten by every
sampling round, joined to its container and deployment, and the containers counted by class: the same
queries whatever the number of containers, and no engine call, so the page stays fast and readable
while the engine is down. It sorts on the server by a whitelisted column and refreshes itself by
polling one partial, which also renders the first load. The charts page is a shell:
``static/health_charts.js`` fetches the history endpoint
(``/api/containers/<pk>/metrics/``) and draws it with the vendored uPlot.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, FloatField, IntegerField, QuerySet, Sum, Value, When
from django.db.models.expressions import OrderBy
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from containers import engine
from containers.models import Container
from containers.views.htmx import partial_of, refresh_when_logged_out
from health import history, resources, sampler
from health.models import ContainerHealth, HealthClass
from tenancy.access import Access, access
from tenancy.scope import get_or_404, scope

# Worst first when sorted descending; a container never sampled yet ranks below stopped.
CLASS_RANK = {HealthClass.CRITICAL: 4, HealthClass.WARNING: 3, HealthClass.HEALTHY: 2, HealthClass.STOPPED: 1}
CLASS_ORDER = [HealthClass.CRITICAL, HealthClass.WARNING, HealthClass.HEALTHY, HealthClass.STOPPED]
UNSAMPLED = "unknown"


@dataclass(frozen=True)
class Column:
    """A sortable column of the fleet table: its ``?sort=`` key, header, what it orders by, first direction."""

    key: str
    label: str
    field: str
    numeric: bool = True  # numbers sort largest first on the first click, names A to Z


COLUMNS = [
    Column("class", "Class", "class_rank"),
    Column("deployment", "Deployment", "deployment__name", numeric=False),
    Column("container", "Container", "name", numeric=False),
    Column("cpu", "CPU %", "health__cpu_pct"),
    Column("memory", "Memory", "health__memory_bytes"),
    Column("memory_pct", "Memory %", "health__memory_pct"),
    Column("rx", "Net rx", "health__net_rx_bytes"),
    Column("tx", "Net tx", "health__net_tx_bytes"),
    Column("pids", "PIDs", "health__pids"),
    Column("sampled", "Sampled", "health__sampled_at"),
]
BY_KEY = {column.key: column for column in COLUMNS}
# Trouble first: the worst class, then the busiest CPU.
DEFAULT_SORT = "-class"
PAGE_SIZE = 50


def parse_sort(raw: str | None) -> tuple[Column, bool]:
    """``?sort=-cpu`` -> (the CPU column, descending). Anything not whitelisted falls back to the default."""
    raw = (raw or "").strip()
    descending = raw.startswith("-")
    column = BY_KEY.get(raw.removeprefix("-"))
    if column is None:
        return parse_sort(DEFAULT_SORT)
    return column, descending


def fleet_queryset(request: HttpRequest, column: Column, descending: bool) -> QuerySet[Container]:
    """Every managed container with its current health and its deployment's name, in the asked order: one query.

    The health row is a LEFT JOIN: a container not sampled yet is listed too, with no figures.
    """
    rank = Case(
        *[When(health__health_class=value, then=Value(rank)) for value, rank in CLASS_RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    primary = OrderBy(F(column.field), descending=descending, nulls_last=True)
    # Ties (same class, no figures yet) keep a stable order, so rows don't jump between refreshes.
    ties: list[OrderBy | str] = [
        OrderBy(F("health__cpu_pct"), descending=True, nulls_last=True),
        F("deployment__name").asc(),
        "name",
        "pk",
    ]
    # The deployment's name as a column: a Deployment per row would decrypt its env for nothing.
    rows = scope(Container.objects.select_related("health"), access(request))
    return rows.annotate(class_rank=rank, deployment_name=F("deployment__name")).order_by(primary, *ties)


def current_health(container: Container) -> ContainerHealth | None:
    # Reading a missing reverse one-to-one raises (an AttributeError subclass); getattr turns it into None.
    return getattr(container, "health", None)


def class_counts(who: Access) -> Counter[str]:
    """The caller's containers per health class (``UNSAMPLED`` for those without figures yet): one GROUP BY,
    no rows fetched."""
    counts: Counter[str] = Counter()
    rows = scope(Container.objects.all(), who).order_by().values_list("health__health_class")
    for value, n in rows.annotate(n=Count("pk")):
        counts[value or UNSAMPLED] += n
    return counts


def fleet_context(request: HttpRequest) -> dict[str, object]:
    column, descending = parse_sort(request.GET.get("sort"))
    counts = class_counts(access(request))
    total = sum(counts.values())
    # A page of rows, so the page costs the same with 5,000 containers as with 50; the counts cover them all.
    paginator = Paginator(fleet_queryset(request, column, descending), PAGE_SIZE)
    paginator.count = total  # known from the counts: no COUNT query
    page = paginator.get_page(request.GET.get("page"))
    # Each row also carries what the template shows of its health (set below, not model fields).
    rows: list[Any] = list(page.object_list)
    now = timezone.now()
    stale_after = settings.HEALTH_SAMPLER_STALE_S
    for container in rows:
        container.figures = current_health(container)
        container.health_class = container.figures.health_class if container.figures else UNSAMPLED
        container.age_s = age_seconds(container.figures.sampled_at if container.figures else None, now)
        container.stale = container.age_s is not None and container.age_s > stale_after
    # Every class is shown, at 0 too, so the counts don't shift about; "not sampled yet" only when there are some.
    by_class: list[tuple[str, int]] = [(value, counts[value]) for value in CLASS_ORDER]
    if counts.get(UNSAMPLED):
        by_class.append((UNSAMPLED, counts[UNSAMPLED]))
    sort = f"-{column.key}" if descending else column.key
    headers = [
        {
            "column": c,
            "active": c is column,
            "aria_sort": ("descending" if descending else "ascending") if c is column else "",
            # The active column's link flips its direction; any other starts largest (or A) first.
            "next": (c.key if descending else f"-{c.key}") if c is column else (f"-{c.key}" if c.numeric else c.key),
        }
        for c in COLUMNS
    ]
    # One small query: whether the figures are live at all (beat and a worker must be running).
    state = sampler.status(now)
    return {
        "rows": rows,
        "page": page,
        "sampler_age_s": state.age_s,
        "sampler_stale": state.age_s is None or state.age_s > stale_after,
        "total": total,
        "by_class": by_class,
        "sort": sort,
        "headers": headers,
        "interval_s": settings.SAMPLE_INTERVAL_S,
        "warning_pct": settings.HEALTH_WARNING_PCT,
        "critical_pct": settings.HEALTH_CRITICAL_PCT,
        "demo_image": settings.DEMO_IMAGE,
    }


def age_seconds(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


@require_GET
@login_required
def fleet(request: HttpRequest) -> HttpResponse:
    return render(request, "health/fleet.html", fleet_context(request))


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("health-fleet", keep_query=True)
def fleet_rows(request: HttpRequest) -> HttpResponse:
    """The fleet's live part, polled by the page; a browser opening it directly gets the whole page."""
    return render(request, "health/partials/fleet.html", fleet_context(request))


@require_GET
@login_required
def container_charts(request: HttpRequest, pk: int) -> HttpResponse:
    container = get_or_404(Container.objects.select_related("deployment", "health"), access(request), pk=pk)
    health = current_health(container)
    limit = (health.memory_limit_bytes if health else None) or container.deployment.memory_limit_bytes
    context = {
        "container": container,
        "health": health,
        "health_class": health.health_class if health else UNSAMPLED,
        "ranges": list(history.RANGES),
        "metrics_url": f"/api/containers/{container.pk}/metrics/",
        "warning_pct": settings.HEALTH_WARNING_PCT,
        "critical_pct": settings.HEALTH_CRITICAL_PCT,
        "interval_s": settings.SAMPLE_INTERVAL_S,
        # The memory chart draws the limit; the deployment's when the sampler has not read one yet.
        "memory_limit_bytes": limit,
    }
    return render(request, "health/container_charts.html", context)


@refresh_when_logged_out
@login_required
@require_GET
def host_partial(request: HttpRequest) -> HttpResponse:
    """The host's CPU, memory and disk: total, reserved by deployments, in use by managed containers.

    Loaded after the page and polled on its own, so the dashboard renders from the database
    even while the engine is slow or down (then this panel says so instead of failing the page).
    """
    try:
        host = resources.report()
    except engine.EngineUnavailable as exc:
        return render(request, "health/partials/host.html", {"engine_error": str(exc)})
    # The host's totals are the host's; what is in use is counted for the caller's organization only.
    mine = scope(ContainerHealth.objects.all(), access(request))
    in_use = mine.filter(health_class__in=["healthy", "warning", "critical"]).aggregate(
        memory=Sum("memory_bytes"),
        cpu=Sum(F("cpu_pct") * F("container__deployment__cpu_limit") / 100, output_field=FloatField()),
    )
    return render(request, "health/partials/host.html", {"host": host, "in_use": in_use})
