"""One sampling round: read every managed container's counters, classify it, write the results in bulk.

A round costs one query for the containers (with their current health), one engine call (the
list of our containers and their states), a few file reads per running container (or, for a
remote engine, one stats API call each, in threads), then one INSERT for all snapshots and one
upsert for all current figures, whatever the number of containers.

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
DEPLOYMENT_ONLY = ["deployment__cpu_limit", "deployment__memory_limit_bytes"]
HEALTH_ONLY = [f"health__{name}" for name in ["container", *HEALTH_FIELDS]]


# --- the round ------------------------------------------------------------------------------------


@dataclass
class RoundResult:
    started_at: datetime
    duration_s: float = 0.0
    containers: int = 0  # sampled: on the engine, running or not
    running: int = 0
    sources: dict[str, int] = field(default_factory=dict)  # readings per source (cgroup, api)
    changes: list[tuple[str, str | None, str]] = field(default_factory=list)  # (docker id, before, after)


@dataclass
class _Batch:
    snapshots: list[Snapshot] = field(default_factory=list)
    health: list[ContainerHealth] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def sample_round() -> RoundResult:
    """Sample every managed container once. Raises ``EngineUnavailable`` if the engine does not answer."""
    started = time.perf_counter()
    result = RoundResult(started_at=timezone.now())
    # Of the deployment only what the figures need: its env is encrypted, and decrypting it for every
    # container was a tenth of a round.
    rows = list(
        Container.objects.select_related("deployment", "health")
        .only("docker_id", "name", "deployment", *DEPLOYMENT_ONLY, *HEALTH_ONLY)
        .order_by("pk")
    )
    # Containers no longer on the engine are left out: the reconciler is about to forget their rows.
    states = {info.id: info.state for info in engine.list_containers(engine.instance_labels())}
    rows = [row for row in rows if row.docker_id in states]
    readings = sources.read([row.docker_id for row in rows if states[row.docker_id] == "running"])
    thresholds = classify.Thresholds(settings.HEALTH_WARNING_PCT, settings.HEALTH_CRITICAL_PCT)

    batch = _Batch()
    for row in rows:
        running = states[row.docker_id] == "running"
        reading = readings.get(row.docker_id)
        if running and reading is None:
            continue  # gone or unreadable since the list: no figures is better than made-up ones
        _sample_one(row, reading, thresholds, result, batch)
    _write(batch)

    result.containers = len(batch.snapshots)
    result.running = sum(1 for s in batch.snapshots if s.running)
    for reading in readings.values():
        result.sources[reading.source] = result.sources.get(reading.source, 0) + 1
    result.duration_s = time.perf_counter() - started
    _record(result)
    return result


def _sample_one(
    row: Container,
    reading: Reading | None,
    thresholds: classify.Thresholds,
    result: RoundResult,
    batch: _Batch,
) -> None:
    previous: ContainerHealth | None = getattr(row, "health", None)
    deployment = row.deployment
    figures: dict[str, Any] = dict.fromkeys(FIGURES)
    if reading is None:
        taken_at, source = result.started_at, ""
        health_class = classify.STOPPED
    else:
        taken_at, source = datetime.fromtimestamp(reading.at, tz=UTC), reading.source
        figures.update(_figures(reading, previous, float(deployment.cpu_limit), deployment.memory_limit_bytes))
        health_class = classify.classify(True, figures["cpu_pct"], figures["memory_pct"], thresholds)

    before = previous.health_class if previous else None
    # A first classification is news only if it is bad; a container starting healthy is expected.
    changed = before != health_class and (before is not None or health_class in (classify.WARNING, classify.CRITICAL))
    health = previous or ContainerHealth(container=row, class_since=taken_at)
    health.health_class, health.sampled_at, health.source = health_class, taken_at, source
    if before != health_class:
        health.class_since = taken_at
    for name, value in figures.items():
        setattr(health, name, value)
    batch.health.append(health)

    batch.snapshots.append(
        Snapshot(
            container_id=row.pk,
            deployment_id=row.deployment_id,
            taken_at=taken_at,
            running=reading is not None,
            health_class=health_class,
            **{name: figures[name] for name in figures if name != "memory_limit_bytes"},
        )
    )
    if changed:
        result.changes.append((row.docker_id, before, health_class))
        batch.events.append(_event(row, before, health_class, figures, taken_at))


def _figures(
    reading: Reading, previous: ContainerHealth | None, cpu_limit: float, deployment_memory: int
) -> dict[str, Any]:
    cpu_pct = None
    if previous is not None and previous.cpu_usage_ns is not None:
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


def _event(row: Container, before: str | None, after: str, figures: dict[str, Any], at: datetime) -> Event:
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
            _insert(ContainerHealth, batch.health, ["container", *HEALTH_FIELDS], upsert_on="container")
            Event.objects.bulk_create(batch.events)
    except IntegrityError:
        # A container or deployment was deleted during the round; the next round starts from what is left.
        log.warning("a sampled container was removed while its health was written; retried next round")


def _insert(model: type[Model], objects: Sequence[Model], names: list[str], upsert_on: str = "") -> None:
    """INSERT ``objects``' ``names`` fields, one statement run for every object; with ``upsert_on``, a row
    whose ``upsert_on`` is taken has its other fields updated instead (PostgreSQL and SQLite alike)."""
    if not objects:
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
    attnames = [field.attname for field in fields]
    times = [index for index, field in enumerate(fields) if isinstance(field, DateTimeField)]
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for obj in objects:
        row = [getattr(obj, attname) for attname in attnames]
        for index in times:
            row[index] = adapt(row[index])
        rows.append(row)
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
    Heartbeat.objects.update_or_create(component=COMPONENT, defaults={"seen_at": result.started_at, "detail": detail})
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
