"""What one look at a container's counters gives, whichever way it was read (cgroup files or stats API)."""

from __future__ import annotations

from dataclasses import dataclass

CGROUP = "cgroup"
API = "api"


@dataclass(frozen=True)
class Reading:
    """Cumulative counters (since the container's cgroup was created) and instantaneous gauges.

    ``at`` is the wall-clock time of the reading (seconds since the epoch): CPU % is the delta of
    ``cpu_usage_ns`` between two readings over the delta of ``at``.
    """

    at: float
    source: str
    cpu_usage_ns: int
    memory_usage_bytes: int
    memory_inactive_file_bytes: int
    memory_limit_bytes: int | None  # None: no limit set on the cgroup
    pids: int | None = None
    net_rx_bytes: int | None = None
    net_tx_bytes: int | None = None
    blk_read_bytes: int | None = None
    blk_write_bytes: int | None = None

    @property
    def memory_used_bytes(self) -> int:
        """Usage less inactive page cache, which the kernel reclaims before killing anything (as docker stats)."""
        return max(0, self.memory_usage_bytes - self.memory_inactive_file_bytes)
