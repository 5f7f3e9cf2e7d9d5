"""Console pages for container health: the fleet page (every container's class and figures) and one
container's charts.

The fleet page reads a page of :class:`ContainerHealth` rows, rewritten by every sampling round, with
their container's and deployment's names (then the containers not sampled yet), and the containers
counted by class: the same queries whatever the number of containers, and no engine call, so the page
stays fast and readable while the engine is down. It sorts on the server by a whitelisted column and refreshes itself by
polling one partial, which also renders the first load. The charts page is a shell:
``static/health_charts.js`` fetches the history endpoint
(``/api/containers/<pk>/metrics/``) and draws it with the vendored uPlot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, FloatField, QuerySet, Sum
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
from orchestrator_site.ranking import ValueRank
from tenancy.access import Access, access
from tenancy.scope import get_or_404, scope

# Worst first when sorted descending; a container never sampled yet ranks below stopped.
CLASS_RANK = {HealthClass.CRITICAL: 4, HealthClass.WARNING: 3, HealthClass.HEALTHY: 2, HealthClass.STOPPED: 1}
CLASS_ORDER = [HealthClass.CRITICAL, HealthClass.WARNING, HealthClass.HEALTHY, HealthClass.STOPPED]
UNSAMPLED = "unknown"


@dataclass(frozen=True)
class Column:
    """A sortable column of the fleet table: its ``?sort=`` key, header, what it orders by, first direction.

    A numeric column is a figure of the container's health row (``field`` on :class:`ContainerHealth`, sorted
    largest first on the first click); the others are names (``field`` on :class:`Container`, A to Z).
    """

    key: str
    label: str
    field: str
    numeric: bool = True


COLUMNS = [
    Column("class", "Class", "class_rank"),
    Column("deployment", "Deployment", "deployment__name", numeric=False),
    Column("container", "Container", "name", numeric=False),
    Column("cpu", "CPU %", "cpu_pct"),
    Column("memory", "Memory", "memory_bytes"),
    Column("memory_pct", "Memory %", "memory_pct"),
    Column("rx", "Net rx", "net_rx_bytes"),
    Column("tx", "Net tx", "net_tx_bytes"),
    Column("pids", "PIDs", "pids"),
    Column("sampled", "Sampled", "sampled_at"),
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


@dataclass(frozen=True, slots=True)
class FleetRow:
    """One row of the fleet table: a container, its deployment's name and its latest figures (all None, and
    ``health_class`` ``UNSAMPLED``, for a container not sampled yet)."""

    pk: int
    name: str
    deployment_id: int
    deployment_name: str
    health_class: str
    sampled_at: datetime | None
    cpu_pct: float | None
    memory_bytes: int | None
    memory_limit_bytes: int | None
    memory_pct: float | None
    net_rx_bytes: int | None
    net_tx_bytes: int | None
    pids: int | None
    age_s: float | None  # since sampled_at
    stale: bool  # sampled longer ago than the sampler's stale mark


FIGURES = [
    "health_class",
    "sampled_at",
    "cpu_pct",
    "memory_bytes",
    "memory_limit_bytes",
    "memory_pct",
    "net_rx_bytes",
    "net_tx_bytes",
    "pids",
]
# What a row shows, in FleetRow's order up to its figures, from the container and from its health row: read
# as plain values (50 containers and 50 health rows as model instances, every datetime of theirs converted,
# cost more than the query).
BY_CONTAINER = ["pk", "name", "deployment_id", "deployment__name", *(f"health__{name}" for name in FIGURES)]
BY_HEALTH = ["container_id", "container__name", "container__deployment_id", "container__deployment__name", *FIGURES]


def _busiest_first(cpu_field: str) -> OrderBy:
    """The first tie-break after the asked column: the busiest CPU (no figures last)."""
    return OrderBy(F(cpu_field), descending=True, nulls_last=True)


def _by_name(to_container: str = "") -> list[OrderBy]:
    """By deployment and container name, then id: a stable order, so rows don't jump between refreshes.
    ``to_container`` leads from the queried model to the container (``"container__"`` from a health row)."""
    return [
        F(f"{to_container}deployment__name").asc(),
        F(f"{to_container}name").asc(),
        F(f"{to_container}pk").asc(),
    ]


def sampled_queryset(who: Access, column: Column, descending: bool) -> QuerySet[ContainerHealth, tuple[Any, ...]]:
    """The ``BY_HEALTH`` values of the caller's sampled containers ordered by a figure: one query, driven by
    their health rows' organization index (a join from each container to its health row cost twice as much)."""
    rows = scope(ContainerHealth.objects.all(), who).annotate(class_rank=ValueRank("health_class", CLASS_RANK, 0))
    primary = OrderBy(F(column.field), descending=descending, nulls_last=True)
    return rows.order_by(primary, _busiest_first("cpu_pct"), *_by_name("container__")).values_list(*BY_HEALTH)


def containers_queryset(who: Access, column: Column | None, descending: bool) -> QuerySet[Container, tuple[Any, ...]]:
    """The ``BY_CONTAINER`` values of the caller's containers, by a name column, with their health row (a LEFT
    JOIN: those not sampled yet too); without a column, only those not sampled yet, by name."""
    rows = scope(Container.objects.all(), who)
    if column is None:
        return rows.filter(health__isnull=True).order_by(*_by_name()).values_list(*BY_CONTAINER)
    primary = OrderBy(F(column.field), descending=descending)
    return rows.order_by(primary, _busiest_first("health__cpu_pct"), *_by_name()).values_list(*BY_CONTAINER)


class FleetList:
    """The fleet's rows in the asked order, read a page at a time (what ``Paginator`` slices).

    By a figure: the sampled containers, from their health rows, then those not sampled yet (no figures
    come last, whichever the direction); by a name: every container in one query. ``total`` and ``sampled``
    come from the class counts, so no COUNT query.
    """

    def __init__(self, who: Access, column: Column, descending: bool, total: int, sampled: int) -> None:
        self.who, self.column, self.descending = who, column, descending
        self.total, self.sampled = total, sampled

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self[0 : self.total])

    @overload
    def __getitem__(self, index: int) -> tuple[Any, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[Any, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[Any, ...] | list[tuple[Any, ...]]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop if index.stop is not None else self.total
        if not self.column.numeric:
            return list(containers_queryset(self.who, self.column, self.descending)[start:stop])
        values: list[tuple[Any, ...]] = []
        if start < self.sampled:
            values += sampled_queryset(self.who, self.column, self.descending)[start : min(stop, self.sampled)]
        if stop > self.sampled:
            values += containers_queryset(self.who, None, False)[max(start - self.sampled, 0) : stop - self.sampled]
        return values


def fleet_rows_of(values: list[tuple[Any, ...]], now: datetime) -> list[FleetRow]:
    """A page of ``FleetList`` values as rows, with the age of their figures."""
    stale_after = settings.HEALTH_SAMPLER_STALE_S
    rows = []
    for row in values:
        (
            pk,
            name,
            deployment_id,
            deployment_name,
            health_class,
            sampled_at,
            cpu,
            memory,
            limit,
            memory_pct,
            rx,
            tx,
            pids,
        ) = row
        age_s = age_seconds(sampled_at, now)
        rows.append(
            FleetRow(
                pk=pk,
                name=name,
                deployment_id=deployment_id,
                deployment_name=deployment_name,
                health_class=health_class or UNSAMPLED,
                sampled_at=sampled_at,
                cpu_pct=cpu,
                memory_bytes=memory,
                memory_limit_bytes=limit,
                memory_pct=memory_pct,
                net_rx_bytes=rx,
                net_tx_bytes=tx,
                pids=pids,
                age_s=age_s,
                stale=age_s is not None and age_s > stale_after,
            )
        )
    return rows


def current_health(container: Container) -> ContainerHealth | None:
    # Reading a missing reverse one-to-one raises (an AttributeError subclass); getattr turns it into None.
    return getattr(container, "health", None)


def class_counts(who: Access) -> Counter[str]:
    """The caller's containers per health class (``UNSAMPLED`` for those without figures yet): two queries, no
    rows fetched.

    The health rows are counted per class from their (organization, class) index and the containers from
    theirs; those without a health row are the difference. A GROUP BY over the containers left-joined to their
    health cost 2 ms at 5,000 containers, these two ~0.3 ms.
    """
    counts: Counter[str] = Counter()
    sampled = scope(ContainerHealth.objects.all(), who).order_by().values_list("health_class")
    # COUNT(*), not of a column: the index alone answers it (the health row's key is not in the index).
    for value, n in sampled.annotate(n=Count("*")):
        counts[value] += n
    # A container added between the two counts shows as not sampled yet; never a negative count.
    unsampled = scope(Container.objects.all(), who).count() - sum(counts.values())
    if unsampled > 0:
        counts[UNSAMPLED] = unsampled
    return counts


def fleet_context(request: HttpRequest) -> dict[str, object]:
    column, descending = parse_sort(request.GET.get("sort"))
    who = access(request)
    counts = class_counts(who)
    total = sum(counts.values())
    # A page of rows, so the page costs the same with 5,000 containers as with 50; the counts cover them all.
    fleet = FleetList(who, column, descending, total, total - counts[UNSAMPLED])
    page = Paginator(fleet, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = fleet_rows_of(list(page.object_list), now)
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
        "sampler_stale": state.age_s is None or state.age_s > settings.HEALTH_SAMPLER_STALE_S,
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
