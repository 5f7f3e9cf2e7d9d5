"""Rollups and retention: raw snapshots -> 1-minute buckets -> 1-hour buckets, and pruning all three.

The core is pure: a :class:`Summary` is a mergeable aggregate (sample counts, sums, maxima, last
counter values), so a raw point is a summary of one sample and a stored minute bucket is a
summary of its samples. Folding summaries into wider buckets is exact: an hour built from its
minutes has the same averages (weighted by the counts), maxima and last values as one built
from the raw points directly.

The shell recomputes from the last stored bucket (and the one before, for points written late)
and upserts, so a run is idempotent and a missed run is caught up by the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, Min
from django.utils import timezone

from health.models import HourRollup, MinuteRollup, Snapshot

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
COUNTERS = ("cpu_usage_ns", "net_rx_bytes", "net_tx_bytes", "blk_read_bytes", "blk_write_bytes")


def floor(at: datetime, width: timedelta) -> datetime:
    """The start of the bucket of ``width`` that holds ``at`` (buckets are aligned to the epoch, in UTC)."""
    seconds = int(width.total_seconds())
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, tz=UTC)


# --- the pure core -------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a bucket knows about one container; merge() later summaries into earlier ones."""

    container_id: int
    deployment_id: int
    bucket: datetime
    samples: int = 0
    cpu_samples: int = 0
    cpu_sum: float = 0.0
    cpu_max: float | None = None
    memory_samples: int = 0
    memory_bytes_sum: float = 0.0
    memory_bytes_max: int | None = None
    memory_pct_sum: float = 0.0
    memory_pct_max: float | None = None
    last: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(COUNTERS))

    @classmethod
    def of_point(
        cls,
        container_id: int,
        deployment_id: int,
        at: datetime,
        cpu_pct: float | None,
        memory_bytes: int | None,
        memory_pct: float | None,
        counters: dict[str, int | None],
    ) -> Summary:
        """One raw point. Memory bytes and % are known together or not at all (the sampler writes both)."""
        memory = memory_bytes is not None and memory_pct is not None
        return cls(
            container_id=container_id,
            deployment_id=deployment_id,
            bucket=at,
            samples=1,
            cpu_samples=int(cpu_pct is not None),
            cpu_sum=cpu_pct or 0.0,
            cpu_max=cpu_pct,
            memory_samples=int(memory),
            memory_bytes_sum=float(memory_bytes or 0) if memory else 0.0,
            memory_bytes_max=memory_bytes if memory else None,
            memory_pct_sum=(memory_pct or 0.0) if memory else 0.0,
            memory_pct_max=memory_pct if memory else None,
            last=dict(counters),
        )

    def merge(self, later: Summary) -> None:
        self.deployment_id = later.deployment_id
        self.samples += later.samples
        self.cpu_samples += later.cpu_samples
        self.cpu_sum += later.cpu_sum
        self.cpu_max = _max(self.cpu_max, later.cpu_max)
        self.memory_samples += later.memory_samples
        self.memory_bytes_sum += later.memory_bytes_sum
        self.memory_bytes_max = _max(self.memory_bytes_max, later.memory_bytes_max)
        self.memory_pct_sum += later.memory_pct_sum
        self.memory_pct_max = _max(self.memory_pct_max, later.memory_pct_max)
        for name, value in later.last.items():
            if value is not None:
                self.last[name] = value

    @property
    def cpu_avg(self) -> float | None:
        return self.cpu_sum / self.cpu_samples if self.cpu_samples else None

    @property
    def memory_bytes_avg(self) -> float | None:
        return self.memory_bytes_sum / self.memory_samples if self.memory_samples else None

    @property
    def memory_pct_avg(self) -> float | None:
        return self.memory_pct_sum / self.memory_samples if self.memory_samples else None


def _max(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else max(a, b)


def fold(summaries: Iterable[Summary], width: timedelta) -> list[Summary]:
    """Merge summaries into buckets of ``width`` per container; each container's input must be in time order."""
    buckets: dict[tuple[int, datetime], Summary] = {}
    for summary in summaries:
        key = (summary.container_id, floor(summary.bucket, width))
        current = buckets.get(key)
        if current is None:
            current = buckets[key] = Summary(summary.container_id, summary.deployment_id, key[1])
        current.merge(summary)
    return list(buckets.values())


# --- the shell ------------------------------------------------------------------------------------

_RAW = ("container_id", "deployment_id", "taken_at", "cpu_pct", "memory_bytes", "memory_pct", *COUNTERS)
_STORED = (
    "container_id",
    "deployment_id",
    "bucket",
    "samples",
    "cpu_samples",
    "cpu_pct_avg",
    "cpu_pct_max",
    "memory_samples",
    "memory_bytes_avg",
    "memory_bytes_max",
    "memory_pct_avg",
    "memory_pct_max",
    *COUNTERS,
)


def _from_raw(rows: Iterable[tuple[Any, ...]]) -> Iterator[Summary]:
    for container_id, deployment_id, at, cpu, memory_bytes, memory_pct, *counters in rows:
        yield Summary.of_point(
            container_id, deployment_id, at, cpu, memory_bytes, memory_pct, dict(zip(COUNTERS, counters, strict=True))
        )


def _from_stored(rows: Iterable[tuple[Any, ...]]) -> Iterator[Summary]:
    for row in rows:
        values = dict(zip(_STORED, row, strict=True))
        cpu_n, memory_n = values["cpu_samples"], values["memory_samples"]
        yield Summary(
            container_id=values["container_id"],
            deployment_id=values["deployment_id"],
            bucket=values["bucket"],
            samples=values["samples"],
            cpu_samples=cpu_n,
            cpu_sum=(values["cpu_pct_avg"] or 0.0) * cpu_n,
            cpu_max=values["cpu_pct_max"],
            memory_samples=memory_n,
            memory_bytes_sum=(values["memory_bytes_avg"] or 0.0) * memory_n,
            memory_bytes_max=values["memory_bytes_max"],
            memory_pct_sum=(values["memory_pct_avg"] or 0.0) * memory_n,
            memory_pct_max=values["memory_pct_max"],
            last={name: values[name] for name in COUNTERS},
        )


def _upsert(model: type[MinuteRollup] | type[HourRollup], summaries: list[Summary]) -> int:
    rows: list[Any] = [
        model(
            container_id=s.container_id,
            deployment_id=s.deployment_id,
            bucket=s.bucket,
            samples=s.samples,
            cpu_samples=s.cpu_samples,
            cpu_pct_avg=s.cpu_avg,
            cpu_pct_max=s.cpu_max,
            memory_samples=s.memory_samples,
            memory_bytes_avg=s.memory_bytes_avg,
            memory_bytes_max=s.memory_bytes_max,
            memory_pct_avg=s.memory_pct_avg,
            memory_pct_max=s.memory_pct_max,
            **s.last,
        )
        for s in summaries
    ]
    model.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["container", "bucket"],
        update_fields=[name for name in _STORED if name not in ("container_id", "bucket")],
    )
    return len(rows)


def _resume_from(
    model: type[MinuteRollup] | type[HourRollup], width: timedelta, first_source: datetime | None
) -> datetime | None:
    """Where to recompute from: the bucket before the last stored one (points may have come late)."""
    latest = model.objects.aggregate(latest=Max("bucket"))["latest"]
    if latest is not None:
        return floor(latest, width) - width
    return floor(first_source, width) if first_source else None


def rollup_minutes() -> int:
    """Build or refresh the 1-minute buckets from the raw snapshots; returns how many."""
    first = Snapshot.objects.aggregate(first=Min("taken_at"))["first"]
    since = _resume_from(MinuteRollup, MINUTE, first)
    if since is None:
        return 0
    rows = (
        Snapshot.objects.filter(taken_at__gte=since)
        .order_by("container_id", "taken_at", "id")
        .values_list(*_RAW)
        .iterator(chunk_size=5000)
    )
    return _upsert(MinuteRollup, fold(_from_raw(rows), MINUTE))


def rollup_hours() -> int:
    """Build or refresh the 1-hour buckets from the 1-minute ones; returns how many."""
    first = MinuteRollup.objects.aggregate(first=Min("bucket"))["first"]
    since = _resume_from(HourRollup, HOUR, first)
    if since is None:
        return 0
    rows = (
        MinuteRollup.objects.filter(bucket__gte=since)
        .order_by("container_id", "bucket")
        .values_list(*_STORED)
        .iterator(chunk_size=5000)
    )
    return _upsert(HourRollup, fold(_from_stored(rows), HOUR))


def rollup() -> dict[str, int]:
    return {"minutes": rollup_minutes(), "hours": rollup_hours()}


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than retention (raw points after rolling them up, so none is lost unseen)."""
    now = now or timezone.now()
    rollup()
    raw_cutoff = now - timedelta(hours=settings.HEALTH_RAW_RETENTION_H)
    rollup_cutoff = now - timedelta(days=settings.HEALTH_ROLLUP_RETENTION_D)
    # No model points at these tables, so each delete is one DELETE ... WHERE statement.
    return {
        "raw": Snapshot.objects.filter(taken_at__lt=raw_cutoff).delete()[0],
        "minutes": MinuteRollup.objects.filter(bucket__lt=rollup_cutoff).delete()[0],
        "hours": HourRollup.objects.filter(bucket__lt=rollup_cutoff).delete()[0],
    }
