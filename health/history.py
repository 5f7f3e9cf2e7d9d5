"""One container's figures over a time range, at a resolution: raw snapshots or 1-minute / 1-hour rollups.

Each point is ``[t, cpu_pct, mem_bytes, mem_pct, rx_bytes, tx_bytes]``: ``t`` in seconds since the
epoch (the bucket's start for rollups), CPU and memory as sampled (bucket averages for rollups),
rx/tx the cumulative network byte counters (the last in a bucket), which restart from zero when
the container restarts; a chart takes differences for rates. Figures of a stopped container are null.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from containers.models import Container
from health.models import HourRollup, MinuteRollup, Snapshot
from health.rollups import HOUR, MINUTE, floor

RANGES = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
RESOLUTIONS = ("raw", "1m", "1h")
# Chosen when the request names none: about 180 to 1,440 points whatever the range.
DEFAULT_RESOLUTION = {"15m": "raw", "1h": "raw", "24h": "1m", "7d": "1h"}
COLUMNS = ["t", "cpu_pct", "mem_bytes", "mem_pct", "rx_bytes", "tx_bytes"]


def points(container: Container, range_name: str, resolution: str, now: datetime | None = None) -> dict[str, Any]:
    """The points of ``container`` in the last ``range_name``, oldest first, and what they cover."""
    now = now or timezone.now()
    since = now - RANGES[range_name]
    if resolution == "raw":
        rows = (
            Snapshot.objects.filter(container_id=container.pk, taken_at__gte=since)
            .order_by("taken_at")
            .values_list("taken_at", "cpu_pct", "memory_bytes", "memory_pct", "net_rx_bytes", "net_tx_bytes")
        )
        data = [[round(t.timestamp(), 3), *rest] for t, *rest in rows]
    else:
        model, width = (MinuteRollup, MINUTE) if resolution == "1m" else (HourRollup, HOUR)
        rolled = (
            model.objects.filter(container_id=container.pk, bucket__gte=floor(since, width))
            .order_by("bucket")
            .values_list("bucket", "cpu_pct_avg", "memory_bytes_avg", "memory_pct_avg", "net_rx_bytes", "net_tx_bytes")
        )
        data = [
            [int(t.timestamp()), _round(cpu), None if mem is None else round(mem), _round(pct), rx, tx]
            for t, cpu, mem, pct, rx, tx in rolled
        ]
    return {"from": since.isoformat(), "to": now.isoformat(), "columns": COLUMNS, "points": data}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
