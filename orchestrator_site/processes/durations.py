"""Duration histograms shared by every process (reconcile in workers, sampling rounds), read by /metrics.

A Prometheus histogram kept in one process would show only what that process did; these live in
the database (:class:`orchestrator_site.processes.models.DurationBucket`), one cheap UPDATE per observation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.db.models import F

from orchestrator_site.processes.models import DurationBucket

log = logging.getLogger(__name__)

# Upper bounds in seconds; INF stands for Prometheus' +Inf (a float both SQLite and PostgreSQL store).
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
INF = 1e300


@dataclass(frozen=True)
class Histogram:
    buckets: list[tuple[float, int]]  # (upper bound, cumulative count), ending with (INF, count)
    sum_s: float

    @property
    def count(self) -> int:
        return self.buckets[-1][1] if self.buckets else 0


def observe(metric: str, seconds: float) -> None:
    """Count one duration; a database error is logged, never raised: a metric must not break the work."""
    try:
        with transaction.atomic():  # a savepoint: a failure here must not break the caller's transaction
            _increment(metric, seconds)
    except DatabaseError:
        log.exception("recording a %s duration failed", metric)


def _increment(metric: str, seconds: float) -> None:
    rows = DurationBucket.objects.filter(metric=metric, le__gte=seconds)
    if not rows.update(count=F("count") + 1, sum_s=F("sum_s") + seconds):
        # The metric's first observation: create its rows (another process may be doing the same).
        DurationBucket.objects.bulk_create(
            [DurationBucket(metric=metric, le=le) for le in (*BOUNDS, INF)], ignore_conflicts=True
        )
        rows.update(count=F("count") + 1, sum_s=F("sum_s") + seconds)


@contextmanager
def timed(metric: str) -> Iterator[None]:
    """Observe how long the block took, whether it returned or raised."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe(metric, time.perf_counter() - started)


def histograms() -> dict[str, Histogram]:
    """Every metric's histogram, in one query."""
    rows = DurationBucket.objects.order_by("metric", "le").values_list("metric", "le", "count", "sum_s")
    result: dict[str, Histogram] = {}
    grouped: dict[str, list[tuple[float, int, float]]] = {}
    for metric, le, count, sum_s in rows:
        grouped.setdefault(metric, []).append((le, count, sum_s))
    for metric, entries in grouped.items():
        result[metric] = Histogram(buckets=[(le, count) for le, count, _ in entries], sum_s=entries[-1][2])
    return result
