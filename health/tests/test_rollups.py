"""Rollups match the raw points (averages, maxima, last counters), in memory and through the database; retention."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from health.models import HourRollup, MinuteRollup, Snapshot
from health.rollups import COUNTERS, HOUR, MINUTE, Summary, floor, fold, prune, rollup_hours, rollup_minutes

BASE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SPAN_MS = 3 * 3600 * 1000  # three hours of points: several minutes and hours to bucket into


@dataclass(frozen=True)
class Point:
    container_id: int
    at: datetime
    cpu_pct: float | None
    memory_bytes: int | None
    memory_pct: float | None
    counters: dict[str, int | None]

    def summary(self) -> Summary:
        return Summary.of_point(
            self.container_id, 100 + self.container_id, self.at, self.cpu_pct, self.memory_bytes, self.memory_pct,
            self.counters,
        )  # fmt: skip


maybe_pct = st.one_of(st.none(), st.floats(min_value=0, max_value=400, allow_nan=False))
maybe_counter = st.one_of(st.none(), st.integers(min_value=0, max_value=2**50))


@st.composite
def raw_points(draw: st.DrawFn) -> list[Point]:
    points = []
    for container_id in range(1, draw(st.integers(min_value=1, max_value=3)) + 1):
        offsets = draw(st.lists(st.integers(min_value=0, max_value=SPAN_MS), min_size=1, max_size=30, unique=True))
        for offset in sorted(offsets):
            memory = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2**40)))
            points.append(
                Point(
                    container_id=container_id,
                    at=BASE + timedelta(milliseconds=offset),
                    cpu_pct=draw(maybe_pct),
                    # The sampler writes memory bytes and % together, or neither.
                    memory_bytes=memory,
                    memory_pct=None if memory is None else draw(st.floats(min_value=0, max_value=100)),
                    counters={name: draw(maybe_counter) for name in COUNTERS},
                )
            )
    return points


def direct(points: list[Point], width: timedelta) -> dict[tuple[int, datetime], dict[str, Any]]:
    """What each bucket should hold, computed straight from the raw points."""
    groups: dict[tuple[int, datetime], list[Point]] = defaultdict(list)
    for point in points:
        groups[(point.container_id, floor(point.at, width))].append(point)
    expected = {}
    for key, group in groups.items():
        group.sort(key=lambda p: p.at)
        cpu = [p.cpu_pct for p in group if p.cpu_pct is not None]
        memory = [
            (p.memory_bytes, p.memory_pct) for p in group if p.memory_bytes is not None and p.memory_pct is not None
        ]
        expected[key] = {
            "samples": len(group),
            "cpu_avg": fmean(cpu) if cpu else None,
            "cpu_max": max(cpu) if cpu else None,
            "memory_bytes_avg": fmean(b for b, _ in memory) if memory else None,
            "memory_bytes_max": max(b for b, _ in memory) if memory else None,
            "memory_pct_avg": fmean(pct for _, pct in memory) if memory else None,
            "memory_pct_max": max(pct for _, pct in memory) if memory else None,
            "last": {
                name: next((p.counters[name] for p in reversed(group) if p.counters[name] is not None), None)
                for name in COUNTERS
            },
        }
    return expected


def as_dict(summary: Summary) -> dict[str, Any]:
    return {
        "samples": summary.samples,
        "cpu_avg": summary.cpu_avg,
        "cpu_max": summary.cpu_max,
        "memory_bytes_avg": summary.memory_bytes_avg,
        "memory_bytes_max": summary.memory_bytes_max,
        "memory_pct_avg": summary.memory_pct_avg,
        "memory_pct_max": summary.memory_pct_max,
        "last": summary.last,
    }


def stored(row: Any) -> dict[str, Any]:
    return {
        "samples": row.samples,
        "cpu_avg": row.cpu_pct_avg,
        "cpu_max": row.cpu_pct_max,
        "memory_bytes_avg": row.memory_bytes_avg,
        "memory_bytes_max": row.memory_bytes_max,
        "memory_pct_avg": row.memory_pct_avg,
        "memory_pct_max": row.memory_pct_max,
        "last": {name: getattr(row, name) for name in COUNTERS},
    }


def assert_matches(actual: dict[tuple[int, datetime], dict[str, Any]], expected: dict[Any, dict[str, Any]]) -> None:
    assert set(actual) == set(expected)
    for key, want in expected.items():
        got = actual[key]
        for name, value in want.items():
            # Sums of floats in another order (or through weighted averages) differ in the last bits only.
            assert got[name] == (pytest.approx(value, rel=1e-9, abs=1e-9) if isinstance(value, float) else value), (
                key,
                name,
            )


@given(points=raw_points())
def test_minute_buckets_match_a_direct_computation(points: list[Point]) -> None:
    minutes = fold((p.summary() for p in points), MINUTE)

    assert_matches({(s.container_id, s.bucket): as_dict(s) for s in minutes}, direct(points, MINUTE))


@given(points=raw_points())
def test_hours_built_from_minutes_match_hours_built_from_the_raw_points(points: list[Point]) -> None:
    hours = fold(fold((p.summary() for p in points), MINUTE), HOUR)

    assert_matches({(s.container_id, s.bucket): as_dict(s) for s in hours}, direct(points, HOUR))


def store(points: list[Point]) -> None:
    Snapshot.objects.bulk_create(
        Snapshot(
            container_id=p.container_id,
            deployment_id=100 + p.container_id,
            taken_at=p.at,
            running=p.memory_bytes is not None,
            health_class="healthy",
            cpu_pct=p.cpu_pct,
            memory_bytes=p.memory_bytes,
            memory_pct=p.memory_pct,
            **p.counters,
        )
        for p in points
    )


def in_db(model: Any) -> dict[tuple[int, datetime], dict[str, Any]]:
    return {(row.container_id, row.bucket): stored(row) for row in model.objects.all()}


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=raw_points(), split_ms=st.integers(min_value=0, max_value=SPAN_MS))
def test_rollups_in_the_database_match_the_raw_points_even_when_built_in_two_runs(
    points: list[Point], split_ms: int
) -> None:
    for model in (Snapshot, MinuteRollup, HourRollup):
        model.objects.all().delete()
    split = BASE + timedelta(milliseconds=split_ms)
    store([p for p in points if p.at < split])
    rollup_minutes()
    rollup_hours()

    store([p for p in points if p.at >= split])
    rollup_minutes()
    rollup_hours()

    assert_matches(in_db(MinuteRollup), direct(points, MINUTE))
    assert_matches(in_db(HourRollup), direct(points, HOUR))
    assert {row.deployment_id for row in HourRollup.objects.all()} <= {101, 102, 103}


@pytest.mark.django_db
def test_running_the_rollup_again_changes_nothing() -> None:
    store(
        [
            Point(1, BASE + timedelta(seconds=5 * i), 10.0 + i, 1000 * i, 1.0 * i, dict.fromkeys(COUNTERS, i))
            for i in range(40)
        ]
    )
    rollup_minutes(), rollup_hours()
    first = (in_db(MinuteRollup), in_db(HourRollup))

    rollup_minutes(), rollup_hours()

    assert (in_db(MinuteRollup), in_db(HourRollup)) == first
    assert len(first[0]) == 4 and len(first[1]) == 1


@pytest.mark.django_db
def test_prune_keeps_raw_points_for_the_retention_and_rollups_for_theirs(settings: Any) -> None:
    settings.HEALTH_RAW_RETENTION_H = 24
    settings.HEALTH_ROLLUP_RETENTION_D = 30
    now = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    store([Point(1, now - timedelta(hours=25), 50.0, 10, 1.0, dict.fromkeys(COUNTERS, 7))])
    store([Point(1, now - timedelta(hours=1), 60.0, 20, 2.0, dict.fromkeys(COUNTERS, 9))])
    old = {"container_id": 2, "deployment_id": 3, "samples": 1, "cpu_samples": 0, "memory_samples": 0}
    MinuteRollup.objects.create(bucket=now - timedelta(days=31), **old)
    HourRollup.objects.create(bucket=now - timedelta(days=31), **old)

    removed = prune(now)

    assert removed == {"raw": 1, "minutes": 1, "hours": 1}
    assert list(Snapshot.objects.values_list("cpu_pct", flat=True)) == [60.0]
    # The pruned raw point was rolled up first: its minute and hour are kept for 30 days.
    assert MinuteRollup.objects.filter(container_id=1).count() == 2
    assert HourRollup.objects.get(container_id=1, bucket=floor(now - timedelta(hours=25), HOUR)).cpu_pct_max == 50.0
    assert not MinuteRollup.objects.filter(container_id=2).exists()


def test_beat_queues_the_rollup_and_the_prune(settings: Any) -> None:
    from orchestrator_site.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert schedule["health-rollup"]["task"] == "health.tasks.rollup" and "health.tasks.rollup" in app.tasks
    assert schedule["health-prune"]["task"] == "health.tasks.prune" and "health.tasks.prune" in app.tasks
    assert schedule["health-rollup"]["schedule"] == settings.HEALTH_ROLLUP_INTERVAL_S
    assert schedule["health-prune"]["schedule"] == settings.HEALTH_PRUNE_INTERVAL_S
