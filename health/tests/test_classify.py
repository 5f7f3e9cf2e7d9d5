"""The seed's classes and the figures behind them: pure functions, no services."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from health.classify import (
    CRITICAL,
    HEALTHY,
    SEVERITY,
    STOPPED,
    WARNING,
    Thresholds,
    Verdict,
    classify,
    cpu_percent,
    memory_percent,
    worst,
)

SEED = Thresholds(75.0, 90.0)
percent = st.one_of(st.none(), st.floats(min_value=0, max_value=400, allow_nan=False))


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        (0.0, 0.0, HEALTHY),
        (74.99, 74.99, HEALTHY),
        (75.0, 10.0, WARNING),
        (10.0, 75.0, WARNING),
        (90.0, 90.0, WARNING),
        (90.01, 0.0, CRITICAL),
        (0.0, 99.0, CRITICAL),
        (250.0, 0.0, CRITICAL),
    ],
)
def test_it_classes_a_running_container_by_its_worse_figure(cpu: float, memory: float, expected: str) -> None:
    assert classify(True, cpu, memory, SEED) == expected


def test_a_container_that_is_not_running_is_stopped_whatever_its_figures() -> None:
    assert classify(False, 99.0, 99.0, SEED) == STOPPED
    assert classify(False, None, None, SEED) == STOPPED


def test_an_unknown_figure_does_not_count() -> None:
    assert classify(True, None, 80.0, SEED) == WARNING
    assert classify(True, None, None, SEED) == HEALTHY


def test_the_thresholds_are_configurable_and_must_be_ordered() -> None:
    assert classify(True, 55.0, 0.0, Thresholds(50.0, 60.0)) == WARNING
    with pytest.raises(ValueError):
        Thresholds(90.0, 75.0)


@given(cpu=percent, memory=percent, more=st.floats(min_value=0, max_value=100))
def test_more_use_never_makes_the_class_better(cpu: float | None, memory: float | None, more: float) -> None:
    before = classify(True, cpu, memory, SEED)
    after = classify(True, None if cpu is None else cpu + more, memory, SEED)

    assert SEVERITY[after] >= SEVERITY[before]


def test_cpu_percent_is_of_the_containers_limit() -> None:
    # 0.1 s of CPU over 1 s of wall time is all of a 0.1-CPU limit, a tenth of one core.
    assert cpu_percent(0, 100.0, 100_000_000, 101.0, 0.1) == 100.0
    assert cpu_percent(0, 100.0, 100_000_000, 101.0, None) == 10.0
    assert cpu_percent(500, 100.0, 500 + 50_000_000, 102.0, 0.5) == 5.0


def test_cpu_percent_needs_a_previous_reading_and_a_counter_that_did_not_restart() -> None:
    assert cpu_percent(None, None, 100, 1.0, 0.5) is None
    assert cpu_percent(1_000, 1.0, 10, 2.0, 0.5) is None  # the cgroup was recreated: the counter restarted
    assert cpu_percent(10, 2.0, 20, 2.0, 0.5) is None


def test_memory_percent_is_of_the_limit_and_unknown_without_one() -> None:
    assert memory_percent(12 * 1024**2, 16 * 1024**2) == 75.0
    assert memory_percent(12, None) is None
    assert memory_percent(None, 16) is None


def test_the_worst_verdict_wins_and_the_first_of_equals_names_the_basis() -> None:
    usage, state = Verdict(HEALTHY, "usage"), Verdict(HEALTHY, "state")

    assert worst([usage, state]) == usage
    assert worst([usage, Verdict(CRITICAL, "healthcheck")]).basis == "healthcheck"
    assert worst([Verdict(WARNING, "usage"), Verdict(STOPPED, "state")]).health_class == STOPPED
