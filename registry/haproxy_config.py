"""HAProxy's side of the registry as plain data: the config we render, the state it reports, the diff.

Pure functions, no sockets and no database, so they are unit-tested on their own. Every
service is a frontend ``fe_<name>`` on 127.0.0.1 and a backend ``be_<name>`` of server slots
``s1``..``sN``; an endpoint occupies a slot (``set server … addr … port …``), a free slot is in
maintenance. Changing which endpoint sits in which slot, and whether it is ready or draining,
needs only the Runtime API; the set of services and the number of slots need a reload.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

READY = "ready"
DRAIN = "drain"
MAINT = "maint"

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced, inherited and DNS-resolution maintenance; forced
# and inherited drain. 0x04 (maintenance from the config's "disabled") stays set after "state ready"
# and means nothing once the forced bit is cleared.
_MAINT_BITS = 0x01 | 0x02 | 0x20
_DRAIN_BITS = 0x08 | 0x10
# srv_op_state: SRV_ST_STOPPED, STARTING, RUNNING, STOPPING.
OP_STATES = {0: "down", 1: "starting", 2: "up", 3: "stopping"}


@dataclass(frozen=True)
class Server:
    """An endpoint as the load balancer should have it."""

    addr: str
    port: int
    state: str  # READY or DRAIN


@dataclass(frozen=True)
class Backend:
    """A service as the load balancer should have it."""

    name: str
    frontend_port: int
    mode: str  # "http" or "tcp"
    servers: tuple[Server, ...]


@dataclass(frozen=True)
class Slot:
    """One server slot as HAProxy reports it (``show servers state``)."""

    backend: str  # the service's name, without "be_"
    name: str  # s1, s2, ...
    addr: str
    port: int
    state: str  # READY, DRAIN or MAINT
    operational: str = "down"  # what HAProxy's own checks say: down, starting, up, stopping

    @property
    def address(self) -> tuple[str, int]:
        return (self.addr, self.port)


@dataclass(frozen=True)
class Paths:
    admin_socket: str


def slot_count(servers: int, minimum: int) -> int:
    """Slots for a backend of ``servers`` endpoints: a power of two, so growth rarely needs a reload."""
    count = max(1, minimum)
    while count < servers:
        count *= 2
    return count


def slot_names(count: int) -> list[str]:
    return [f"s{i}" for i in range(1, count + 1)]


def assign(servers: Iterable[Server], slots: list[Slot]) -> dict[str, Server | None]:
    """Which server goes into which slot: an endpoint keeps the slot that already has its address,
    new ones take free slots (maintenance ones first), and slots left over become free (None).

    Raises ValueError when there are more servers than slots (the caller reloads with more).
    """
    wanted = {(s.addr, s.port): s for s in servers}
    target: dict[str, Server | None] = {}
    free: list[Slot] = []
    for slot in slots:
        server = wanted.pop(slot.address, None) if slot.state != MAINT else None
        if server is not None:
            target[slot.name] = server
        else:
            free.append(slot)
    if len(wanted) > len(free):
        raise ValueError(f"{len(wanted)} more servers than free slots ({len(free)})")
    # Slots already in maintenance first: reusing a slot that was serving a moment ago is the last resort.
    free.sort(key=lambda slot: slot.state != MAINT)
    newcomers = sorted(wanted.values(), key=lambda s: (s.addr, s.port))
    for slot, server in zip(free, newcomers + [None] * len(free), strict=False):
        target[slot.name] = server
    return target


def commands(backend: str, slots: list[Slot], target: Mapping[str, Server | None]) -> list[str]:
    """Runtime API commands that take ``slots`` to ``target``; none when they already agree."""
    out: list[str] = []
    for slot in slots:
        server = target.get(slot.name)
        ref = f"be_{backend}/{slot.name}"
        if server is None:
            if slot.state != MAINT:
                out.append(f"set server {ref} state maint")
            continue
        if slot.address != (server.addr, server.port):
            if slot.state != MAINT:
                # Another endpoint sat here: take it out before the address changes under it.
                out.append(f"set server {ref} state maint")
            out.append(f"set server {ref} addr {server.addr} port {server.port}")
            out.append(f"set server {ref} state {server.state}")
        elif slot.state != server.state:
            out.append(f"set server {ref} state {server.state}")
    return out


def render(backends: Iterable[Backend], assignments: Mapping[str, Mapping[str, Server | None]], paths: Paths) -> str:
    """The whole configuration: global and defaults, then one frontend and backend per service.

    ``assignments`` maps each service to its slots' servers (as :func:`assign` returns), so a
    reload starts with the endpoints already in place. Servers are checked by TCP connect; a
    failed connection is retried on another server, so a container that just died costs no request.
    """
    lines = [
        "# Written by the orchestrator (registry/loadbalancer.py) from its database; edits are overwritten.",
        "global",
        f"    stats socket {paths.admin_socket} mode 600 level admin expose-fd listeners",
        "    stats timeout 30s",
        # A reload's old process finishes its connections, but not for ever.
        "    hard-stop-after 5m",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-request 10s",
        "    timeout queue 10s",
        "    retries 3",
        "    option redispatch 1",
        "    default-server inter 1s fall 2 rise 1",
        "",
    ]
    for backend in sorted(backends, key=lambda b: b.name):
        slots = assignments.get(backend.name, {})
        lines += [
            f"frontend fe_{backend.name}",
            f"    mode {backend.mode}",
            f"    bind 127.0.0.1:{backend.frontend_port}",
            f"    default_backend be_{backend.name}",
            "",
            f"backend be_{backend.name}",
            f"    mode {backend.mode}",
            "    balance roundrobin",
        ]
        if backend.mode == "http":
            lines.append("    retry-on conn-failure empty-response")
        for name, server in slots.items():
            if server is None:
                lines.append(f"    server {name} 127.0.0.1:1 check disabled")
            else:
                lines.append(f"    server {name} {server.addr}:{server.port} check")
        lines.append("")
    return "\n".join(lines) + "\n"


def parse_servers_state(text: str) -> dict[str, list[Slot]]:
    """``show servers state`` -> slots per service (backends named ``be_<service>``), in slot order."""
    out: dict[str, list[Slot]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 19 or line.startswith("#") or not parts[1].startswith("be_"):
            continue
        admin = int(parts[6])
        if admin & _MAINT_BITS:
            state = MAINT
        elif admin & _DRAIN_BITS:
            state = DRAIN
        else:
            state = READY
        slot = Slot(
            backend=parts[1][3:],
            name=parts[3],
            addr=parts[4],
            port=int(parts[18]),
            state=state,
            operational=OP_STATES.get(int(parts[5]), "down"),
        )
        out.setdefault(slot.backend, []).append(slot)
    for slots in out.values():
        slots.sort(key=lambda s: int(s.name[1:]) if s.name[1:].isdigit() else 0)
    return out


@dataclass(frozen=True)
class ServerStats:
    """Per-server figures from ``show stat``."""

    sessions: int  # current
    total: int  # sessions since start
    rate: int  # sessions per second over the last second
    status: str  # UP, DOWN, DRAIN, MAINT, ...


def parse_stat(text: str) -> dict[tuple[str, str], ServerStats]:
    """``show stat`` (CSV) -> figures per (service, slot) for our backends' servers."""
    text = text.lstrip("# ")
    out: dict[tuple[str, str], ServerStats] = {}
    for row in csv.DictReader(io.StringIO(text)):
        proxy, server = row.get("pxname") or "", row.get("svname") or ""
        if not proxy.startswith("be_") or server in ("BACKEND", "FRONTEND"):
            continue
        out[(proxy[3:], server)] = ServerStats(
            sessions=int(row.get("scur") or 0),
            total=int(row.get("stot") or 0),
            rate=int(row.get("rate") or 0),
            status=row.get("status") or "",
        )
    return out
