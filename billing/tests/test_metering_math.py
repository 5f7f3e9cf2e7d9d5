"""The metering math over counter series, without services: hand-picked cases and hypothesis properties."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.metering import US_PER_HOUR, US_PER_S, Sample, Totals, meter, quantities

S = US_PER_S


def run(*points: tuple[int, int]) -> list[Sample]:
    """Running samples at (second, cpu seconds)."""
    return [Sample(t * S, True, c * 1_000_000_000, 100, c) for t, c in points]


def test_it_sums_counter_deltas() -> None:
    totals = meter(run((0, 0), (5, 2), (10, 5)), 0, 3600 * S)
    assert totals.cpu_ns == 5_000_000_000
    assert totals.reserved_us == 10 * S


def test_it_counts_a_reset_series_from_zero_once() -> None:
    # 0..7 s of CPU, then a restart: the counter starts again at 1.
    totals = meter(run((0, 0), (5, 7), (10, 1), (15, 3)), 0, 3600 * S)
    assert totals.cpu_ns == (7 + 1 + 2) * 1_000_000_000
    assert totals.resets == 1
    # The stretch between the last reading of the old series and the first of the new is not reserved.
    assert totals.reserved_us == 10 * S


def test_a_stopped_reading_starts_a_new_series_even_if_the_counter_is_higher() -> None:
    samples = [*run((0, 0), (5, 2)), Sample(10 * S, False), *run((15, 3))]
    totals = meter(samples, 0, 3600 * S)
    assert totals.cpu_ns == (2 + 3) * 1_000_000_000


def test_a_gap_keeps_counting_and_is_recorded() -> None:
    totals = meter(run((0, 0), (7200, 100)), 0, 3 * 3600 * S, gap_us=600 * S)
    assert totals.cpu_ns == 100 * 1_000_000_000
    assert totals.gaps == 1 and totals.anomalies


def test_reserved_time_starts_at_the_containers_own_start() -> None:
    totals = meter(run((3, 1), (8, 2)), 0, 3600 * S, started_us=1 * S)
    assert totals.reserved_us == 7 * S


def test_without_a_baseline_an_old_containers_first_reading_only_serves_as_one() -> None:
    totals = meter(run((5, 100), (10, 101)), 0, 3600 * S, first_ever=False)
    assert totals.cpu_ns == 1_000_000_000
    assert totals.anomalies


def test_memory_is_integrated_by_trapezoids() -> None:
    samples = [Sample(0, True, 0, 0, 0), Sample(3600 * S, True, 0, 2_000_000_000, 0)]
    q = quantities(meter(samples, 0, 2 * US_PER_HOUR), Decimal("0.5"), 1_000_000_000)
    assert q["memory_used"] == Decimal(1)  # 1 GB on average for an hour
    assert q["memory_reserved"] == Decimal(1)
    assert q["cpu_reserved"] == Decimal("0.5")
    assert q["container_hours"] == Decimal(1)


# --- properties -----------------------------------------------------------------------------------

# A run: readings with increasing counters (cpu ns increments, seconds between readings).
runs = st.lists(
    st.lists(st.tuples(st.integers(1, 600), st.integers(0, 10**10)), min_size=1, max_size=12),
    min_size=1,
    max_size=6,
)


def history(run_specs: list[list[tuple[int, int]]], stop_marks: list[bool]) -> tuple[list[Sample], int]:
    """Readings of a container restarted between runs, each run's last reading taken at its end
    (the orchestrator's final reading). Returns the readings and the true CPU total."""
    samples: list[Sample] = []
    t = 0
    true_total = 0
    for index, spec in enumerate(run_specs):
        counter = 0
        if samples:
            previous_end = samples[-1].cpu_ns or 0
            # A restart the meter must see: a stopped reading between, or the new counter below the old.
            stopped_between = stop_marks[index % len(stop_marks)]
            if stopped_between or previous_end == 0:
                t += 1
                samples.append(Sample(t * S, False))
            else:
                spec = [(spec[0][0], min(spec[0][1], previous_end - 1)), *spec[1:]]
        for gap, increment in spec:
            t += gap
            counter += increment
            samples.append(Sample(t * S, True, counter, 1000, counter // 7))
        true_total += counter
    return samples, true_total


@settings(max_examples=200, deadline=None)
@given(runs, st.lists(st.booleans(), min_size=1, max_size=6))
def test_a_series_with_restarts_is_metered_exactly(run_specs: list[list[tuple[int, int]]], marks: list[bool]) -> None:
    samples, true_total = history(run_specs, marks)
    totals = meter(samples, 0, samples[-1].at_us + 1)
    assert totals.cpu_ns == true_total


@settings(max_examples=200, deadline=None)
@given(runs, st.lists(st.booleans(), min_size=1, max_size=6), st.integers(1, 3 * 3600))
def test_hours_add_up_to_the_whole(run_specs: list[list[tuple[int, int]]], marks: list[bool], hour_s: int) -> None:
    """Metering window by window (any window length) gives exactly what metering all at once gives."""
    samples, _ = history(run_specs, marks)
    end = samples[-1].at_us + 1
    whole = meter(samples, 0, end, started_us=0)
    parts = Totals()
    start = 0
    while start < end:
        # Each window sees its baseline (the readings before it): the shell passes the last one.
        before = [s for s in samples if s.at_us < start][-1:]
        inside = [s for s in samples if s.at_us >= start]
        parts.add(meter(before + inside, start, start + hour_s * S, started_us=0))
        start += hour_s * S
    assert (parts.cpu_ns, parts.tx_bytes, parts.reserved_us, parts.memory_byte_us_x2) == (
        whole.cpu_ns,
        whole.tx_bytes,
        whole.reserved_us,
        whole.memory_byte_us_x2,
    )


@settings(max_examples=200, deadline=None)
@given(runs, st.lists(st.booleans(), min_size=1, max_size=6), st.data())
def test_lost_readings_never_count_twice(run_specs: list[list[tuple[int, int]]], marks: list[bool], data) -> None:  # type: ignore[no-untyped-def]
    """Whatever readings are missing (a sampler that was down), the meter never counts more than was used."""
    samples, true_total = history(run_specs, marks)
    kept = [s for s in samples if not s.running or data.draw(st.booleans())]
    totals = meter(kept, 0, samples[-1].at_us + 1)
    assert 0 <= totals.cpu_ns <= true_total
