"""Keep HAProxy in step with the registry: level-triggered, like reconcile.

:func:`sync` reads what the database wants (every live service, its healthy endpoints ready and
its draining ones draining) and what HAProxy has (``show servers state``), then:

- HAProxy not running: render the whole config from the database and start it (with
  ``HAPROXY_START=never`` only write it: a supervisor, or compose's haproxy service, starts HAProxy);
- a service added or retired, or a backend out of slots: render and reload seamlessly;
- otherwise only Runtime API commands (``set server … addr … port …``, ``… state …``).

It runs after every committed registry change (a queued task) and on every
``LB_SYNC_INTERVAL_S`` tick, so a killed HAProxy is back and in sync within one tick.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from containers.models import record
from registry import haproxy
from registry.haproxy_config import (
    DRAIN,
    MAINT,
    READY,
    Backend,
    Paths,
    Server,
    Slot,
    assign,
    commands,
    parse_servers_state,
    render,
    slot_count,
    slot_names,
)
from registry.models import Service, ServiceEndpoint

log = logging.getLogger(__name__)

ACTOR = "loadbalancer"
# An endpoint takes traffic while healthy, finishes what it has while draining, and is out otherwise.
LB_STATES = {ServiceEndpoint.Status.HEALTHY: READY, ServiceEndpoint.Status.DRAINING: DRAIN}


@dataclass
class SyncReport:
    started: bool = False
    reloaded: bool = False
    commands: list[str] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)


def desired() -> dict[str, Backend]:
    """Every live service as HAProxy should have it."""
    services = list(Service.objects.filter(retired_at__isnull=True).values_list("name", "frontend_port", "mode"))
    ours = {port for _, port, _ in services}
    servers: dict[str, list[Server]] = {name: [] for name, _, _ in services}
    resolved: dict[str, str | None] = {}
    rows = ServiceEndpoint.objects.filter(service__in=servers, status__in=list(LB_STATES)).values_list(
        "service", "host", "port", "status"
    )
    for name, host, port, status in rows:
        if host not in resolved:
            resolved[host] = address(host)
        addr = resolved[host]
        if addr is None or (ipaddress.ip_address(addr).is_loopback and port in ours):
            continue  # unresolvable, or one of our own frontends: a loop, never a server
        servers[name].append(Server(addr, port, LB_STATES[status]))  # type: ignore[index]  # a Status value
    return {
        name: Backend(name, port, mode, tuple(sorted(servers[name], key=lambda s: (s.addr, s.port))))
        for name, port, mode in services
    }


def address(host: str) -> str | None:
    """An IP address for HAProxy's ``set server addr`` (it takes no names)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return str(socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
    except (OSError, IndexError):
        log.warning("endpoint host %s does not resolve; left out of the load balancer", host)
        return None


@contextlib.contextmanager
def _sync_lock() -> Iterator[None]:
    """One sync at a time on this host (worker processes, the tick and the after-commit task)."""
    fd = os.open(haproxy.directory() / "sync.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sync() -> SyncReport:
    """Make HAProxy agree with the database (see the module docstring). Raises
    :class:`haproxy.LoadBalancerError` when it cannot; the next tick tries again."""
    report = SyncReport()
    if not settings.LB_ENABLED:
        return report
    with _sync_lock():
        want = desired()
        if not haproxy.alive():
            if settings.HAPROXY_START != "auto":
                # Its supervisor starts it, on this config (make run's run_haproxy writes its own too).
                _install(want, {})
                raise haproxy.LoadBalancerDown("HAProxy is not running (HAPROXY_START=never: its supervisor starts it)")
            _install(want, {})
            report.started = haproxy.start()
            if report.started:
                record(
                    "loadbalancer.started",
                    actor=ACTOR,
                    message=f"HAProxy started with {len(want)} services",
                    after={"services": sorted(want)},
                )
        slots = parse_servers_state(haproxy.servers_state())
        if _needs_reload(want, slots):
            _install(want, slots)
            haproxy.reload()
            report.reloaded = True
            record(
                "loadbalancer.reloaded",
                actor=ACTOR,
                message=f"HAProxy reloaded seamlessly: {len(want)} services",
                before={"services": sorted(slots)},
                after={"services": sorted(want)},
            )
            slots = parse_servers_state(haproxy.servers_state())
        report.commands = pending(want, slots)
        if report.commands:
            report.complaints = haproxy.runtime_batch(report.commands)
            for complaint in report.complaints:
                log.warning("HAProxy: %s", complaint)
    return report


def pending(want: dict[str, Backend], slots: dict[str, list[Slot]]) -> list[str]:
    """The Runtime API commands that would make ``slots`` agree with ``want``; [] when in sync."""
    out: list[str] = []
    for backend in want.values():
        current = slots.get(backend.name, [])
        out += commands(backend.name, current, assign(backend.servers, current))
    return out


def differences() -> list[str]:
    """What HAProxy has that the database does not want (empty when they agree); for checks and tests."""
    want = desired()
    slots = parse_servers_state(haproxy.servers_state())
    if set(want) != set(slots):
        return [f"services: HAProxy has {sorted(slots)}, the registry {sorted(want)}"]
    try:
        return pending(want, slots)
    except ValueError as exc:
        return [str(exc)]


def _structure(want: dict[str, Backend]) -> dict[str, list[object]]:
    return {b.name: [b.frontend_port, b.mode] for b in want.values()}


def _structure_path() -> os.PathLike[str]:
    return haproxy.directory() / "services.json"


def _needs_reload(want: dict[str, Backend], slots: dict[str, list[Slot]]) -> bool:
    """A service added or removed (or its frontend changed), or a backend with fewer slots than servers."""
    if set(want) != set(slots):
        return True
    try:
        with open(_structure_path()) as f:
            installed = json.load(f)
    except (FileNotFoundError, ValueError):
        installed = None
    if installed != _structure(want):
        return True
    return any(len(want[name].servers) > len(slots[name]) for name in want)


def _install(want: dict[str, Backend], slots: dict[str, list[Slot]]) -> None:
    """Render the config with every endpoint already in its slot (kept where HAProxy has it) and install it."""
    assignments: dict[str, dict[str, Server | None]] = {}
    for backend in want.values():
        current = {slot.name: slot for slot in slots.get(backend.name, [])}
        count = max(len(current), slot_count(len(backend.servers), settings.LB_MIN_SLOTS))
        full = [current.get(name) or Slot(backend.name, name, "127.0.0.1", 1, MAINT) for name in slot_names(count)]
        assignments[backend.name] = assign(backend.servers, full)
    haproxy.install_config(render(want.values(), assignments, Paths(admin_socket=haproxy.admin_socket())))
    with open(_structure_path(), "w") as f:
        json.dump(_structure(want), f)


def write_config() -> None:
    """Render the config from the database alone (before a supervisor starts HAProxy on it)."""
    with _sync_lock():
        _install(desired(), {})


def service_stats() -> dict[tuple[str, str, int], dict[str, object]]:
    """HAProxy's view per endpoint address (service, addr, port): state, check result, sessions, rate."""
    from registry.haproxy_config import parse_stat

    slots = parse_servers_state(haproxy.servers_state())
    stats = parse_stat(haproxy.stat())
    out: dict[tuple[str, str, int], dict[str, object]] = {}
    for name, backend_slots in slots.items():
        for slot in backend_slots:
            if slot.state == MAINT:
                continue
            figures = stats.get((name, slot.name))
            out[(name, slot.addr, slot.port)] = {
                "slot": slot.name,
                "state": slot.state,
                "check": slot.operational,
                "sessions": figures.sessions if figures else 0,
                "total": figures.total if figures else 0,
                "rate": figures.rate if figures else 0,
            }
    return out
