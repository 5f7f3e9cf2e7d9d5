"""The seed's health classes and the figures behind them, as pure functions over plain numbers.

- healthy: CPU and memory below the warning threshold (75 % by default);
- warning: either at or above it, up to the critical threshold (90 %) inclusive;
- critical: either above the critical threshold;
- stopped: the container is not running.

CPU % is of the container's own CPU limit (0.1 CPU fully used is 100 %), from the delta of its
cumulative CPU time over the wall time between two readings. Memory % is of its memory limit.
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTHY = "healthy"
WARNING = "warning"
CRITICAL = "critical"
STOPPED = "stopped"
# A class decided from the engine's state alone, before any reading (e.g. a HEALTHCHECK still starting).
UNKNOWN = "unknown"

# Which of several verdicts about one container wins (the worst).
SEVERITY = {HEALTHY: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3, STOPPED: 4}


@dataclass(frozen=True)
class Thresholds:
    warning_pct: float = 75.0
    critical_pct: float = 90.0

    def __post_init__(self) -> None:
        if not 0 < self.warning_pct <= self.critical_pct:
            raise ValueError(f"need 0 < warning ({self.warning_pct}) <= critical ({self.critical_pct})")


@dataclass(frozen=True)
class Verdict:
    """One opinion about a container's class and the rule that gave it (``usage``, ``state``, ``healthcheck``...)."""

    health_class: str
    basis: str


def classify(running: bool, cpu_pct: float | None, memory_pct: float | None, thresholds: Thresholds) -> str:
    """The class of one container; a figure that is unknown (None) does not count."""
    if not running:
        return STOPPED
    figures = [pct for pct in (cpu_pct, memory_pct) if pct is not None]
    worst = max(figures, default=0.0)
    if worst > thresholds.critical_pct:
        return CRITICAL
    if worst >= thresholds.warning_pct:
        return WARNING
    return HEALTHY


def worst(verdicts: list[Verdict]) -> Verdict:
    """The verdict that matters most; the first of equals wins (callers list the freshest first)."""
    if not verdicts:
        raise ValueError("no verdicts")
    return max(verdicts, key=lambda v: SEVERITY.get(v.health_class, 0))


def cpu_percent(
    previous_ns: int | None, previous_at: float | None, usage_ns: int, at: float, cpu_limit: float | None
) -> float | None:
    """CPU used between two readings, in % of ``cpu_limit`` cores (of one core without a limit).

    None without a previous reading, when the counter went backwards (the container restarted
    and its cgroup started again from zero) or when no time passed.
    """
    if previous_ns is None or previous_at is None:
        return None
    elapsed = at - previous_at
    used = usage_ns - previous_ns
    if elapsed <= 0 or used < 0:
        return None
    cores = cpu_limit if cpu_limit and cpu_limit > 0 else 1.0
    return round(used / (elapsed * 1e9 * cores) * 100, 2)


def memory_percent(used_bytes: int | None, limit_bytes: int | None) -> float | None:
    if used_bytes is None or not limit_bytes:
        return None
    return round(used_bytes / limit_bytes * 100, 2)
