"""The fallback reader: the engine's stats API, one one-shot call per container, many at once in threads.

Used when the engine is remote (``DOCKER_HOST=tcp://...``: its cgroup files are on another machine)
or when a local container's cgroup files cannot be read from here (e.g. the orchestrator itself
runs in a container). It gives the same cumulative counters as the files, at the cost of an API
call per container.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from containers import engine
from health.readings import API, Reading


def parse(raw: dict[str, Any], at: float) -> Reading:
    """A stats API answer (``docker stats``' JSON, cgroup v1 or v2) as a :class:`Reading`."""
    cpu = (raw.get("cpu_stats") or {}).get("cpu_usage") or {}
    memory = raw.get("memory_stats") or {}
    mstat = memory.get("stats") or {}
    networks = (raw.get("networks") or {}).values()
    read_bytes = write_bytes = 0
    blkio = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    for entry in blkio:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read_bytes += int(entry.get("value", 0))
        elif op == "write":
            write_bytes += int(entry.get("value", 0))
    pids = (raw.get("pids_stats") or {}).get("current")
    return Reading(
        at=at,
        source=API,
        cpu_usage_ns=int(cpu.get("total_usage", 0)),
        memory_usage_bytes=int(memory.get("usage", 0)),
        # v1 names it total_inactive_file, v2 inactive_file (docker stats subtracts the same).
        memory_inactive_file_bytes=int(mstat.get("total_inactive_file", mstat.get("inactive_file", 0))),
        memory_limit_bytes=int(memory["limit"]) if memory.get("limit") else None,
        pids=int(pids) if pids is not None else None,
        net_rx_bytes=sum(int(n.get("rx_bytes", 0)) for n in networks) if raw.get("networks") else None,
        net_tx_bytes=sum(int(n.get("tx_bytes", 0)) for n in networks) if raw.get("networks") else None,
        blk_read_bytes=read_bytes,
        blk_write_bytes=write_bytes,
    )


def read_one(container_id: str) -> Reading | None:
    """None if the container is gone or the engine refuses; an engine that is down raises."""
    try:
        raw = engine.container_stats(container_id)
    except engine.EngineUnavailable:
        raise
    except engine.EngineError:
        return None
    if not raw.get("read", "").startswith("0001-") and (raw.get("cpu_stats") or {}).get("cpu_usage"):
        return parse(raw, time.time())
    return None  # stopped between the engine's list and this call: the API answers with zeros


def read_all(container_ids: list[str], threads: int) -> dict[str, Reading]:
    """Readings for as many of ``container_ids`` as answer, ``threads`` calls in flight at a time.

    The engine answers a one-shot call at its next collection tick (every second, shared by every
    container being watched), so calls in flight together cost about one second however many they are.
    """
    if not container_ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(threads, len(container_ids)), thread_name_prefix="stats-api") as pool:
        results = list(pool.map(read_one, container_ids))
    return {cid: reading for cid, reading in zip(container_ids, results, strict=True) if reading is not None}
