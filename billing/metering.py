"""Metering math: cumulative counter readings of one container -> what it used and reserved in a window.

Pure functions over plain data (no database, no engine), so the rules are unit- and property-tested:

- **Counters, never percentages.** CPU time and bytes sent are cumulative counters; usage is the
  sum of deltas between consecutive readings. Integers (nanoseconds, bytes, microseconds) all the
  way, so nothing is lost to floating point; quantities become Decimals only at the end.
- **Series.** A counter that goes backwards, or a reading after one of a stopped container, starts
  a new series (the container restarted and the kernel made its cgroup anew, counting from zero):
  the first reading of a series counts in full, so a restart is neither lost nor counted twice.
- **Gaps.** A pair of readings of one series counts whatever its gap (the counter kept counting
  while nobody looked); a gap longer than ``gap_us`` is recorded as an anomaly, never a crash.
- **Attribution.** A pair counts in the window holding its *later* reading; windows that tile time
  (hours) therefore add up exactly to the whole.
- **Reserved time** runs from the container's own start instant to its first reading, then between
  consecutive readings of a running series; the orchestrator's final reading just before it stops
  a container closes it. A container killed from outside loses at most the time since its last reading.
- **Memory used** is integrated over time (trapezoids between readings of a series).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

US_PER_S = 1_000_000
US_PER_HOUR = 3_600 * US_PER_S
NS_PER_S = 1_000_000_000
BYTES_PER_GB = 1_000_000_000  # decimal gigabytes, as cloud price lists use
# Quantities are kept to 12 decimal places: far below any price's resolution, exact for CPU-seconds (9).
QUANTITY_PLACES = Decimal("0.000000000001")


class Sample(NamedTuple):
    """One reading of one container. ``at_us``: epoch microseconds. Counters are None when unread.

    A named tuple: an hour of 500 containers is 360,000 of them, and tuples are cheap to make."""

    at_us: int
    running: bool
    cpu_ns: int | None = None
    memory_bytes: int | None = None
    tx_bytes: int | None = None


# What meter() reads: a Sample, or the same five values as a plain tuple (cheaper by the 100,000).
Reading = tuple[int, bool, int | None, int | None, int | None]


@dataclass
class Totals:
    """Integer sums over a window; :func:`quantities` turns them into Decimal measures."""

    cpu_ns: int = 0
    tx_bytes: int = 0
    reserved_us: int = 0
    # Twice the memory integral (byte-microseconds): trapezoids stay integers this way.
    memory_byte_us_x2: int = 0
    resets: int = 0  # counters that went backwards while running
    gaps: int = 0  # pairs further apart than gap_us
    anomalies: list[str] = field(default_factory=list)

    def add(self, other: Totals) -> None:
        self.cpu_ns += other.cpu_ns
        self.tx_bytes += other.tx_bytes
        self.reserved_us += other.reserved_us
        self.memory_byte_us_x2 += other.memory_byte_us_x2
        self.resets += other.resets
        self.gaps += other.gaps
        self.anomalies.extend(other.anomalies)


def meter(
    samples: Sequence[Reading],
    start_us: int,
    end_us: int,
    *,
    started_us: int | None = None,
    first_ever: bool = True,
    gap_us: int = 3_600 * US_PER_S,
) -> Totals:
    """What one container used and reserved in ``[start_us, end_us)``.

    ``samples`` are its readings in time order, including the last one before the window (the
    baseline its first delta starts from); readings at or after ``end_us`` are ignored.
    ``started_us`` is the container's own start instant: reserved time before its first-ever
    reading counts from there. ``first_ever`` says the first of ``samples`` is the container's
    first reading; when it is not (the baseline is older than what was looked up) that reading
    only serves as the baseline, and the anomaly is recorded.

    Written as one flat loop over tuples: an hour of 500 containers is 360,000 readings.
    """
    totals = Totals()
    cpu_total = tx_total = reserved = memory_x2 = 0
    previous: Reading | None = None
    for sample in samples:
        at, running, cpu, memory, tx = sample
        if at >= end_us:
            break
        if at < start_us or not running:
            previous = sample
            continue
        if previous is None:
            if not first_ever:
                totals.anomalies.append(f"no baseline before {at}")
            else:
                # The first reading we have: counters run from zero since the container started.
                cpu_total += cpu or 0
                tx_total += tx or 0
                if started_us is not None and started_us <= at:
                    reserved += at - started_us
                    memory_x2 += 2 * (at - started_us) * (memory or 0)
            previous = sample
            continue
        p_at, p_running, p_cpu, p_memory, p_tx = previous
        previous = sample
        new_series = not p_running
        if cpu is not None:
            if new_series or p_cpu is None:
                cpu_total += cpu
            elif cpu < p_cpu:
                # The CPU counter is the series' witness: the container restarted between the two readings.
                cpu_total += cpu
                new_series = True
                totals.resets += 1
                totals.anomalies.append(f"counter reset at {at}")
            else:
                cpu_total += cpu - p_cpu
        if tx is not None:
            tx_total += tx if (new_series or p_tx is None or tx < p_tx) else tx - p_tx
        if new_series:
            continue  # the time between a stop (or a restart) and the next reading is not known to be reserved
        elapsed = at - p_at
        if elapsed > gap_us:
            totals.gaps += 1
            totals.anomalies.append(f"gap of {elapsed // US_PER_S} s before {at}")
        reserved += elapsed
        if p_memory is not None and memory is not None:
            memory_x2 += elapsed * (p_memory + memory)
    totals.cpu_ns, totals.tx_bytes, totals.reserved_us, totals.memory_byte_us_x2 = (
        cpu_total,
        tx_total,
        reserved,
        memory_x2,
    )
    return totals


def quantize(value: Decimal) -> Decimal:
    return value.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)


def quantities(totals: Totals, cpu_limit: Decimal, memory_limit_bytes: int) -> dict[str, Decimal]:
    """The measures (see ``billing.models.Measure``) for one container's totals, exact Decimals."""
    reserved_h = Decimal(totals.reserved_us) / US_PER_HOUR
    return {
        "cpu_used": quantize(Decimal(totals.cpu_ns) / NS_PER_S),
        "cpu_reserved": quantize(reserved_h * cpu_limit),
        "memory_used": quantize(Decimal(totals.memory_byte_us_x2) / 2 / BYTES_PER_GB / US_PER_HOUR),
        "memory_reserved": quantize(reserved_h * memory_limit_bytes / BYTES_PER_GB),
        "network_out": quantize(Decimal(totals.tx_bytes) / BYTES_PER_GB),
        "container_hours": quantize(reserved_h),
    }
