"""The seed's ``GET /system/resources``: what the host has, what deployments reserve, what is left.

"Available for admission" uses the caps admission uses (``containers.deployments.admission_caps``),
so a start that fits here is admitted.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from containers import engine
from containers.deployments import admission_caps, reserved


def disk_path(docker_root_dir: str) -> Path:
    """The engine's data directory if it is on this machine (it is not for a remote engine), else ``/``."""
    if docker_root_dir and Path(docker_root_dir).is_dir():
        return Path(docker_root_dir)
    return Path("/")


def report() -> dict[str, Any]:
    """Raises ``EngineUnavailable`` (503) if the engine does not answer: without it there are no figures."""
    host = engine.host_info()
    managed = engine.list_containers(engine.instance_labels())
    reservation = reserved()
    caps = admission_caps(host)
    cpu_cap, memory_cap = caps.cpu, caps.memory_bytes
    path = disk_path(host.docker_root_dir)
    disk = shutil.disk_usage(path)
    return {
        "cpu": {
            "total": host.cpus,
            "admission_capacity": float(cpu_cap),
            "reserved": float(reservation.cpu),
            "available": float(max(cpu_cap - reservation.cpu, Decimal(0))),
        },
        "memory": {
            "total_bytes": host.memory_bytes,
            "admission_capacity_bytes": memory_cap,
            "reserved_bytes": reservation.memory_bytes,
            "available_bytes": max(memory_cap - reservation.memory_bytes, 0),
        },
        "disk": {
            "path": str(path),
            "total_bytes": disk.total,
            "used_bytes": disk.used,
            "free_bytes": disk.free,
            "used_percent": round(disk.used / disk.total * 100, 1) if disk.total else 0.0,
        },
        "containers": {
            # Everything the engine runs, ours or not, and ours alone.
            "running": host.containers_running,
            "managed_running": sum(1 for info in managed if info.running),
            "managed_total": len(managed),
        },
        "engine": {
            "version": host.server_version,
            "cgroup_version": host.cgroup_version,
            "cgroup_driver": host.cgroup_driver,
            "docker_root_dir": host.docker_root_dir,
        },
        "admission_factors": {"cpu": settings.ADMISSION_CPU_FACTOR, "memory": settings.ADMISSION_MEMORY_FACTOR},
    }
