"""One sampling round: read every managed container's counters, classify it, write the results in bulk.

A round costs one query for the containers (with their current health), a few file reads per
running container (or, for a remote engine, one stats API call each, in threads), then one INSERT
for all snapshots and one upsert for all current figures, whatever the number of containers. The
engine is asked for the list of our containers only when a row's files did not read (stopped,
removed, just died) or the engine is remote: a fleet that runs costs no engine call.

CPU % needs two readings: each round keeps the cumulative CPU time it read in the container's
:class:`ContainerHealth` row, and the next round (in whichever process) takes the delta.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import DateTimeField, Field, Model
from django.utils import timezone

from containers import engine
from containers.models import Container, Event
from health import classify, sources
from health.models import ContainerHealth, Snapshot
from health.readings import Reading
from health.resources import disk_path
from orchestrator_site.processes import durations, heartbeats
from orchestrator_site.processes.models import Heartbeat

log = logging.getLogger(__name__)

ACTOR = "sampler"
COMPONENT = "sampler"  # its Heartbeat row: the start of the last round that completed, and what it did
# Claimed by the process taking beat's tick (its row: "sampler-claim"); apart from COMPONENT so a failing
# round doesn't look alive.
CLAIM_JOB = "sampler"
EVENT_KIND = "health.class_changed"
# The figures a round writes into each snapshot and ContainerHealth row; all None for a stopped container.
FIGURES = [
    "cpu_pct",
    "memory_bytes",
    "memory_pct",
    "memory_limit_bytes",
    "pids",
    "cpu_usage_ns",
    "net_rx_bytes",
    "net_tx_bytes",
    "blk_read_bytes",
    "blk_write_bytes",
]
HEALTH_FIELDS = ["health_class", "class_since", "sampled_at", "source", *FIGURES]
# A ContainerHealth row as the round writes it: the container, its organization (for the fleet's counts), the rest.
HEALTH_COLUMNS = ["container", "organization", *HEALTH_FIELDS]


# --- the round ------------------------------------------------------------------------------------


@dataclass
class RoundResult:
    started_at: datetime
    duration_s: float = 0.0
    containers: int = 0  # sampled: on the engine, running or not
    running: int = 0
    sources: dict[str, int] = field(default_factory=dict)  # readings per source (cgroup, api)
    changes: list[tuple[str, str | None, str]] = field(default_factory=list)  # (docker id, before, after)


@dataclass(slots=True)
class _Row:
    """What a round needs of a container: plain values (building 200 model instances a round cost more
    than reading their counters)."""

    pk: int
    docker_id: str
    name: str
    deployment_id: int
    organization_id: int
    cpu_limit: Decimal
    memory_limit_bytes: int
    health_class: str | None  # None: never sampled
    class_since: datetime | None
    sampled_at: datetime | None
    cpu_usage_ns: int | None


ROW_FIELDS = [
    "pk",
    "docker_id",
    "name",
    "deployment_id",
    "organization_id",
    "deployment__cpu_limit",
    "deployment__memory_limit_bytes",
    "health__health_class",
    "health__class_since",
    "health__sampled_at",
    "health__cpu_usage_ns",
]


@dataclass
class _Batch:
    snapshots: list[list[Any]] = field(default_factory=list)  # values in SNAPSHOT_FIELDS order
    health: list[list[Any]] = field(default_factory=list)  # values in HEALTH_COLUMNS order
    events: list[Event] = field(default_factory=list)


def sample_round() -> RoundResult:
    """Sample every managed container once. Raises ``EngineUnavailable`` if the engine must be asked (see
    ``_read``) and does not answer."""
    started = time.perf_counter()
    result = RoundResult(started_at=timezone.now())
    rows = [_Row(*values) for values in Container.objects.order_by("pk").values_list(*ROW_FIELDS)]
    readings, states = _read(rows)
    # Containers no longer on the engine are left out: the reconciler is about to forget their rows.
    if states is not None:
        rows = [row for row in rows if row.docker_id in states]
    thresholds = classify.Thresholds(settings.HEALTH_WARNING_PCT, settings.HEALTH_CRITICAL_PCT)

    batch = _Batch()
    for row in rows:
        reading = readings.get(row.docker_id)
        if reading is None and states is not None and states[row.docker_id] == "running":
            continue  # gone or unreadable since the list: no figures is better than made-up ones
        _sample_one(row, reading, thresholds, result, batch)
    _write(batch)

    result.containers = len(batch.snapshots)
    result.running = sum(1 for values in batch.snapshots if values[RUNNING_INDEX])
    for reading in readings.values():
        result.sources[reading.source] = result.sources.get(reading.source, 0) + 1
    result.duration_s = time.perf_counter() - started
    _record(result)
    return result


def _read(rows: list[_Row]) -> tuple[dict[str, Reading], dict[str, str] | None]:
    """The readings of the running containers, and the engine's states of ours when it had to be asked
    (None when it was not).

    A local engine's running container is one whose cgroup files read: every row is tried, and when all
    of them read (the steady state of a healthy fleet) the engine is not asked at all. Only a row that
    did not read (stopped, removed, just died, or not readable from here) makes the round list our
    containers once, to tell those apart; a remote engine is always listed.
    """
    layout = sources.local_layout()
    if layout is None:
        states = _states()
        return sources.read([row.docker_id for row in rows if states.get(row.docker_id) == "running"]), states
    readings = sources.read_cgroups(layout, [row.docker_id for row in rows])
    if len(readings) == len(rows):
        return readings, None
    states = _states()
    unread = [row.docker_id for row in rows if row.docker_id not in readings and states.get(row.docker_id) == "running"]
    readings.update(sources.read_api(unread))
    return readings, states


def _states() -> dict[str, str]:
    return {info.id: info.state for info in engine.list_containers(engine.instance_labels())}


def _sample_one(
    row: _Row,
    reading: Reading | None,
    thresholds: classify.Thresholds,
    result: RoundResult,
    batch: _Batch,
) -> None:
    figures: dict[str, Any] = dict.fromkeys(FIGURES)
    if reading is None:
        taken_at, source = result.started_at, ""
        health_class = classify.STOPPED
    else:
        taken_at, source = datetime.fromtimestamp(reading.at, tz=UTC), reading.source
        figures.update(_figures(reading, row, float(row.cpu_limit), row.memory_limit_bytes))
        health_class = classify.classify(True, figures["cpu_pct"], figures["memory_pct"], thresholds)

    before = row.health_class
    # A first classification is news only if it is bad; a container starting healthy is expected.
    changed = before != health_class and (before is not None or health_class in (classify.WARNING, classify.CRITICAL))
    class_since = taken_at if before != health_class or row.class_since is None else row.class_since
    batch.health.append(
        [row.pk, row.organization_id, health_class, class_since, taken_at, source, *(figures[name] for name in FIGURES)]
    )
    batch.snapshots.append(
        [
            row.pk,
            row.deployment_id,
            taken_at,
            reading is not None,
            health_class,
            *(figures[name] for name in FIGURES if name != "memory_limit_bytes"),
        ]
    )
    if changed:
        result.changes.append((row.docker_id, before, health_class))
        batch.events.append(_event(row, before, health_class, figures, taken_at))


def _figures(reading: Reading, previous: _Row, cpu_limit: float, deployment_memory: int) -> dict[str, Any]:
    cpu_pct = None
    if previous.cpu_usage_ns is not None and previous.sampled_at is not None:
        cpu_pct = classify.cpu_percent(
            previous.cpu_usage_ns, previous.sampled_at.timestamp(), reading.cpu_usage_ns, reading.at, cpu_limit
        )
    limit = reading.memory_limit_bytes or deployment_memory
    return {
        "cpu_pct": cpu_pct,
        "memory_bytes": reading.memory_used_bytes,
        "memory_pct": classify.memory_percent(reading.memory_used_bytes, limit),
        "memory_limit_bytes": limit,
        "pids": reading.pids,
        "cpu_usage_ns": reading.cpu_usage_ns,
        "net_rx_bytes": reading.net_rx_bytes,
        "net_tx_bytes": reading.net_tx_bytes,
        "blk_read_bytes": reading.blk_read_bytes,
        "blk_write_bytes": reading.blk_write_bytes,
    }


def _event(row: _Row, before: str | None, after: str, figures: dict[str, Any], at: datetime) -> Event:
    message = f"{row.name} is {after}" if before is None else f"{row.name} went from {before} to {after}"
    usage = [
        f"{name} {figures[key]:.1f} %"
        for name, key in (("CPU", "cpu_pct"), ("memory", "memory_pct"))
        if figures[key] is not None
    ]
    if usage:
        message += f" ({', '.join(usage)})"
    return Event(
        created_at=at,
        actor=ACTOR,
        kind=EVENT_KIND,
        message=message,
        deployment_id=row.deployment_id,
        container_docker_id=row.docker_id,
        before={"class": before},
        after={"class": after, "cpu_pct": figures["cpu_pct"], "memory_pct": figures["memory_pct"]},
    )


SNAPSHOT_FIELDS = ["container", "deployment", "taken_at", "running", "health_class"] + [
    name for name in FIGURES if name != "memory_limit_bytes"
]
RUNNING_INDEX = SNAPSHOT_FIELDS.index("running")


def _write(batch: _Batch) -> None:
    """One INSERT for the snapshots, one upsert for the current figures, one INSERT for the (rare) events.

    The first two are one statement executed for every row (``executemany``), built here rather than by
    ``bulk_create``: the ORM's preparing of 200 rows x 15 values was a quarter of a round's time.
    """
    _insert(Snapshot, batch.snapshots, SNAPSHOT_FIELDS)
    try:
        # A class and the event saying it changed are written together or not at all.
        with transaction.atomic():
            # An upsert (INSERT ... ON CONFLICT DO UPDATE): new containers and known ones in one statement.
            _insert(ContainerHealth, batch.health, HEALTH_COLUMNS, upsert_on="container")
            Event.objects.bulk_create(batch.events)
    except IntegrityError:
        # A container or deployment was deleted during the round; the next round starts from what is left.
        log.warning("a sampled container was removed while its health was written; retried next round")


def _insert(model: type[Model], rows: Sequence[list[Any]], names: list[str], upsert_on: str = "") -> None:
    """INSERT ``rows`` (values of the ``names`` fields, in that order), one statement run for every row; with
    ``upsert_on``, a row whose ``upsert_on`` is taken has its other fields updated instead (PostgreSQL and
    SQLite alike)."""
    if not rows:
        return
    fields = [cast(Field, model._meta.get_field(name)) for name in names]
    quote = connection.ops.quote_name
    columns = [quote(str(field.column)) for field in fields]
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    if upsert_on:
        target = quote(str(cast(Field, model._meta.get_field(upsert_on)).column))
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns if column != target)
        sql += f" ON CONFLICT ({target}) DO UPDATE SET {updates}"
    times = [index for index, field in enumerate(fields) if isinstance(field, DateTimeField)]
    adapt = connection.ops.adapt_datetimefield_value
    for row in rows:
        for index in times:
            row[index] = adapt(row[index])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _record(result: RoundResult) -> None:
    detail: dict[str, Any] = {
        "duration_ms": round(result.duration_s * 1000, 2),
        "containers": result.containers,
        "running": result.running,
        "sources": result.sources,
        "changes": len(result.changes),
        "interval_s": settings.SAMPLE_INTERVAL_S,
    }
    root = sources.host().docker_root_dir
    if root:
        disk = shutil.disk_usage(disk_path(root))
        detail["disk"] = {"path": str(disk_path(root)), "total_bytes": disk.total, "used_bytes": disk.used}
    # An UPDATE, and an INSERT only the first time (update_or_create locks and reads the row first).
    if not Heartbeat.objects.filter(component=COMPONENT).update(seen_at=result.started_at, detail=detail):
        Heartbeat.objects.update_or_create(
            component=COMPONENT, defaults={"seen_at": result.started_at, "detail": detail}
        )
    durations.observe("sampler", result.duration_s)


# --- scheduling -----------------------------------------------------------------------------------


def run_scheduled() -> RoundResult | None:
    """Beat's tick: a round, unless another process just ran one."""
    if not heartbeats.claim(CLAIM_JOB, settings.SAMPLE_INTERVAL_S / 2):
        return None
    return sample_round()


@dataclass(frozen=True)
class Status:
    """The sampler as /health/detailed and /metrics report it."""

    last_round_at: datetime | None
    age_s: float | None
    lag_s: float | None  # how far the last round is overdue, beyond one interval
    interval_s: float
    detail: dict[str, Any]


def status(now: datetime | None = None) -> Status:
    now = now or timezone.now()
    interval = settings.SAMPLE_INTERVAL_S
    row = Heartbeat.objects.filter(component=COMPONENT).values_list("seen_at", "detail").first()
    if row is None:
        return Status(None, None, None, interval, {})
    seen_at, detail = row
    age = max(0.0, (now - seen_at).total_seconds())
    return Status(seen_at, round(age, 3), round(max(0.0, age - interval), 3), interval, detail or {})
