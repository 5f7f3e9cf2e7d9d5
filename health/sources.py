"""Where a sampling round's readings come from: the kernel's cgroup files for a local engine, else the stats API.

The engine's cgroup version and driver are asked once per process (``docker info``) and kept.
A container whose files can't be read from here (e.g. the orchestrator itself runs in a
container without the host's ``/sys/fs/cgroup``) is read through the stats API instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from containers import engine
from health import cgroups, stats_api
from health.readings import Reading

_REMOTE_SCHEMES = ("tcp://", "ssh://", "http://", "https://")


@dataclass(frozen=True)
class Host:
    """What the sampler learns about the engine once per process."""

    layout: cgroups.Layout | None  # None: the cgroup files are not on this machine
    docker_root_dir: str


_host: Host | None = None
_host_lock = threading.Lock()


def is_remote(docker_host: str) -> bool:
    return docker_host.startswith(_REMOTE_SCHEMES)


def host() -> Host:
    """Detected on first use from ``docker info`` (cgroup version and driver), then kept."""
    global _host
    if _host is None:
        with _host_lock:
            if _host is None:
                info = engine.host_info()
                local = settings.HEALTH_SAMPLER_SOURCE == "cgroup" or not is_remote(settings.DOCKER_HOST)
                layout = cgroups.detect(info.cgroup_version, info.cgroup_driver, Path(settings.HEALTH_CGROUP_ROOT))
                _host = Host(layout=layout if local else None, docker_root_dir=info.docker_root_dir if local else "")
    return _host


def reset_host() -> None:
    """Forget what was detected (settings or the engine changed)."""
    global _host
    with _host_lock:
        _host = None


def local_layout() -> cgroups.Layout | None:
    """The cgroup layout to read from, or None when a round must go through the engine (remote engine, or
    ``HEALTH_SAMPLER_SOURCE=api``)."""
    return None if settings.HEALTH_SAMPLER_SOURCE == "api" else host().layout


def read_cgroups(layout: cgroups.Layout, container_ids: list[str]) -> dict[str, Reading]:
    """A reading for each container whose cgroup files can be read: the running ones (a stopped or removed
    container has none), no fallback."""
    readings: dict[str, Reading] = {}
    proc_root = Path(settings.HEALTH_PROC_ROOT)
    for container_id in container_ids:
        try:
            readings[container_id] = cgroups.read(layout, container_id, proc_root)
        except cgroups.Unreadable:
            pass
    return readings


def read_api(container_ids: list[str]) -> dict[str, Reading]:
    """Readings through the stats API for running containers whose files can't be read from here (none when the
    source is pinned to ``cgroup``)."""
    if not container_ids or settings.HEALTH_SAMPLER_SOURCE == "cgroup":
        return {}
    return stats_api.read_all(container_ids, settings.HEALTH_STATS_API_THREADS)


def read(container_ids: list[str]) -> dict[str, Reading]:
    """A reading for each running container that can be read: cgroup files first, else the stats API."""
    source = settings.HEALTH_SAMPLER_SOURCE
    layout = host().layout
    readings: dict[str, Reading] = {}
    unread = container_ids
    if source != "api" and layout is not None:
        unread = []
        proc_root = Path(settings.HEALTH_PROC_ROOT)
        for container_id in container_ids:
            try:
                readings[container_id] = cgroups.read(layout, container_id, proc_root)
            except cgroups.Unreadable:
                unread.append(container_id)
    if unread and source != "cgroup":
        readings.update(stats_api.read_all(unread, settings.HEALTH_STATS_API_THREADS))
    return readings
