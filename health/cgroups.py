"""Reading a local container's counters straight from the kernel's cgroup files, and its network from /proc.

Four layouts, told apart by the engine's ``CgroupVersion`` and ``CgroupDriver`` (``docker info``):

- v1, cgroupfs: ``<root>/<controller>/docker/<id>/`` (``cpuacct.usage``, ``memory.usage_in_bytes``...)
- v1, systemd:  ``<root>/<controller>/system.slice/docker-<id>.scope/``
- v2, cgroupfs: ``<root>/docker/<id>/`` (one directory: ``cpu.stat``, ``memory.current``, ``io.stat``...)
- v2, systemd:  ``<root>/system.slice/docker-<id>.scope/``

A container's network counters live in its network namespace: ``/proc/<pid>/net/dev`` of any of
its processes (the first one listed in ``cgroup.procs``). Reading all of this for one container
is a handful of small file reads, no engine call: that is what makes sampling cheap.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from health.readings import CGROUP, Reading

# v1 reports "no limit" as the largest page-aligned counter (9223372036854771712); anything this big is none.
_NO_LIMIT = 1 << 60


class Unreadable(Exception):
    """The container's cgroup files are missing (not running, or not this layout) or not readable here."""


@dataclass(frozen=True)
class Layout:
    version: int  # 1 or 2
    systemd: bool
    root: Path = Path("/sys/fs/cgroup")

    def directory(self, container_id: str, controller: str = "") -> Path:
        """The container's cgroup directory (for v1, within ``controller``'s hierarchy)."""
        leaf = f"system.slice/docker-{container_id}.scope" if self.systemd else f"docker/{container_id}"
        if self.version == 2:
            return self.root / leaf
        return self.root / controller / leaf


def detect(cgroup_version: str, cgroup_driver: str, root: Path) -> Layout:
    """The layout for what ``docker info`` reports; a missing version is guessed from the mounted files."""
    if cgroup_version in ("1", "2"):
        version = int(cgroup_version)
    else:
        version = 2 if (root / "cgroup.controllers").exists() else 1
    return Layout(version=version, systemd=cgroup_driver == "systemd", root=root)


# --- parsers: text in, numbers out ------------------------------------------------------------


def parse_keyed(text: str) -> dict[str, int]:
    """``key value`` lines (``memory.stat``, ``cpu.stat``)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def parse_limit(text: str) -> int | None:
    """``memory.limit_in_bytes`` (v1) or ``memory.max`` (v2); None when unlimited."""
    raw = text.strip()
    if raw == "max":
        return None
    value = int(raw)
    return None if value >= _NO_LIMIT else value


def parse_blkio_v1(text: str) -> tuple[int, int]:
    """``blkio.throttle.io_service_bytes``: ``8:0 Read 4096`` lines per device; bytes read and written, all devices."""
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue  # the closing "Total N" line, or noise
        if parts[1] == "Read":
            read += int(parts[2])
        elif parts[1] == "Write":
            write += int(parts[2])
    return read, write


def parse_io_stat_v2(text: str) -> tuple[int, int]:
    """``io.stat``: ``8:0 rbytes=4096 wbytes=0 rios=1 ...`` per device; bytes read and written, all devices."""
    read = write = 0
    for line in text.splitlines():
        for pair in line.split()[1:]:
            key, _, value = pair.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write


def parse_net_dev(text: str) -> tuple[int, int]:
    """``/proc/<pid>/net/dev``: bytes received and transmitted on every interface but loopback."""
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, sep, counters = line.partition(":")
        fields = counters.split()
        if not sep or name.strip() == "lo" or len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


# --- reading ---------------------------------------------------------------------------------------
# Paths are plain strings and files are read with os.open/os.read: with 200 containers a round opens
# 1,600 small files, and pathlib objects and text wrappers cost more than the reads themselves.


def _text(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode("ascii")
    finally:
        os.close(fd)


def _optional(path: str) -> str | None:
    """A file whose absence only costs one figure (a controller not mounted, a kernel without it)."""
    try:
        return _text(path)
    except (OSError, UnicodeDecodeError):
        return None


def _first_pid(procs: str) -> int | None:
    try:
        line = _text(procs).partition("\n")[0].strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(line) if line.isdigit() else None


def _keyed(text: str, key: str) -> int | None:
    """One ``key value`` line's value, without parsing the whole file (``memory.stat`` has ~35 lines)."""
    at = text.find(key + " ")
    while at > 0 and text[at - 1] != "\n":
        at = text.find(key + " ", at + 1)
    if at < 0:
        return None
    end = text.find("\n", at)
    value = text[at + len(key) + 1 : end if end >= 0 else len(text)].strip()
    return int(value) if value.lstrip("-").isdigit() else None


def network(proc_root: Path | str, pid: int | None) -> tuple[int | None, int | None]:
    if pid is None:
        return None, None
    text = _optional(f"{proc_root}/{pid}/net/dev")
    if text is None:
        return None, None
    return parse_net_dev(text)


def read(layout: Layout, container_id: str, proc_root: Path = Path("/proc")) -> Reading:
    """Everything about one running container; raises :class:`Unreadable` if its CPU or memory can't be read."""
    try:
        if layout.version == 2:
            return _read_v2(layout, container_id, str(proc_root))
        return _read_v1(layout, container_id, str(proc_root))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{container_id[:12]}: {exc}") from exc


def _leaf(layout: Layout, container_id: str) -> str:
    return f"system.slice/docker-{container_id}.scope" if layout.systemd else f"docker/{container_id}"


def _read_v1(layout: Layout, container_id: str, proc_root: str) -> Reading:
    root, leaf = str(layout.root), _leaf(layout, container_id)
    cpuacct, memory = f"{root}/cpuacct/{leaf}", f"{root}/memory/{leaf}"
    usage_ns = int(_text(f"{cpuacct}/cpuacct.usage"))
    at = time.time()
    stat = _text(f"{memory}/memory.stat")
    inactive = _keyed(stat, "total_inactive_file")
    blkio = _optional(f"{root}/blkio/{leaf}/blkio.throttle.io_service_bytes")
    read_bytes, write_bytes = parse_blkio_v1(blkio) if blkio is not None else (None, None)
    pids = _optional(f"{root}/pids/{leaf}/pids.current")
    rx, tx = network(proc_root, _first_pid(f"{cpuacct}/cgroup.procs"))
    return Reading(
        at=at,
        source=CGROUP,
        cpu_usage_ns=usage_ns,
        memory_usage_bytes=int(_text(f"{memory}/memory.usage_in_bytes")),
        # total_* includes child cgroups; a container's cgroup has none, but that is docker's choice too.
        memory_inactive_file_bytes=inactive if inactive is not None else (_keyed(stat, "inactive_file") or 0),
        memory_limit_bytes=_limit_v1(stat, memory),
        pids=int(pids) if pids is not None else None,
        net_rx_bytes=rx,
        net_tx_bytes=tx,
        blk_read_bytes=read_bytes,
        blk_write_bytes=write_bytes,
    )


def _limit_v1(stat: str, memory: str) -> int | None:
    """The memory limit: ``memory.stat``'s ``hierarchical_memory_limit`` (the container's own limit, its
    parents being unlimited), already read, so a file fewer to open per container and round; else
    ``memory.limit_in_bytes``."""
    limit = _keyed(stat, "hierarchical_memory_limit")
    if limit is None:
        return parse_limit(_text(f"{memory}/memory.limit_in_bytes"))
    return None if limit >= _NO_LIMIT else limit


def _read_v2(layout: Layout, container_id: str, proc_root: str) -> Reading:
    directory = f"{layout.root}/{_leaf(layout, container_id)}"
    usage_usec = _keyed(_text(f"{directory}/cpu.stat"), "usage_usec")
    if usage_usec is None:
        raise ValueError("cpu.stat has no usage_usec")
    at = time.time()
    stat = _text(f"{directory}/memory.stat")
    io = _optional(f"{directory}/io.stat")
    read_bytes, write_bytes = parse_io_stat_v2(io) if io is not None else (None, None)
    pids = _optional(f"{directory}/pids.current")
    rx, tx = network(proc_root, _first_pid(f"{directory}/cgroup.procs"))
    return Reading(
        at=at,
        source=CGROUP,
        cpu_usage_ns=usage_usec * 1000,
        memory_usage_bytes=int(_text(f"{directory}/memory.current")),
        memory_inactive_file_bytes=_keyed(stat, "inactive_file") or 0,
        memory_limit_bytes=parse_limit(_text(f"{directory}/memory.max")),
        pids=int(pids) if pids is not None else None,
        net_rx_bytes=rx,
        net_tx_bytes=tx,
        blk_read_bytes=read_bytes,
        blk_write_bytes=write_bytes,
    )
