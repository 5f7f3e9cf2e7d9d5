"""``make run``'s process supervisor (supervisord) as the orchestrator sees it.

Two sides. The event listener (``manage.py process_events``, run by supervisord itself) turns the
supervisor's process-state events into the event log: every unplanned exit, backoff, give-up and
restart of a process, and each start of the whole stack. ``/health/detailed`` asks supervisord over
its unix socket (``SUPERVISOR_SERVER_URL``, which supervisord sets in its children) for each process's
state and start time, and counts restarts in the event log since the stack started. Outside
supervisord (production's compose stack, the tests) there is no socket and nothing to report.
"""

from __future__ import annotations

import logging
import threading
import time
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from containers.models import Event, record

log = logging.getLogger(__name__)

ACTOR = "supervisor"
STACK_STARTED = "stack.started"
PROCESS_EXITED = "process.exited"
PROCESS_RESTARTED = "process.restarted"
PROCESS_BACKOFF = "process.backoff"
PROCESS_FATAL = "process.fatal"
PROCESS_STOPPED = "process.stopped"
# A program that gave up (FATAL: it died within startsecs on every one of its tries) is started again
# after this long, for as long as it keeps failing: a broken dependency that comes back is picked up.
FATAL_RETRY_S = 60.0


def rpc(url: str | None = None, timeout: float | None = None) -> Any:
    """An XML-RPC proxy to supervisord at ``url`` (``unix:///...`` or ``http://...``), or None outside it."""
    url = url if url is not None else settings.SUPERVISOR_SERVER_URL
    if not url:
        return None
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, url)
    if timeout is not None and url.startswith("unix://"):
        # supervisor's transport has no timeout of its own; a hung supervisord must not hang a request.
        original = transport._get_connection

        def connection() -> Any:
            conn = original()
            conn.timeout = timeout
            return conn

        transport._get_connection = connection  # type: ignore[method-assign]
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


@dataclass(frozen=True)
class ProcessInfo:
    """One supervised process as supervisord reports it."""

    name: str
    state: str  # STARTING, RUNNING, BACKOFF, STOPPING, STOPPED, EXITED, FATAL, UNKNOWN
    pid: int | None
    started_at: float | None  # epoch seconds of its latest start
    description: str

    @classmethod
    def from_rpc(cls, info: dict[str, Any]) -> ProcessInfo:
        return cls(
            name=info["name"],
            state=info["statename"],
            pid=info["pid"] or None,
            started_at=float(info["start"]) if info["start"] else None,
            description=info.get("description", ""),
        )


def process_infos(timeout: float) -> dict[str, ProcessInfo] | None:
    """Every supervised process by name, or None when this process does not run under supervisord."""
    proxy = rpc(timeout=timeout)
    if proxy is None:
        return None
    return {info["name"]: ProcessInfo.from_rpc(info) for info in proxy.supervisor.getAllProcessInfo()}


def stack_started_at() -> datetime | None:
    """When the supervisor last started the stack (its ``stack.started`` event)."""
    return Event.objects.filter(kind=STACK_STARTED).values_list("created_at", flat=True).first()


def restarts_since(since: datetime | None) -> Counter[str]:
    """How often each process was restarted after an unplanned exit since ``since``."""
    events = Event.objects.filter(kind=PROCESS_RESTARTED)
    if since is not None:
        events = events.filter(created_at__gte=since)
    return Counter(after.get("process", "") for after in events.values_list("after", flat=True) if after)


def report(infos: dict[str, ProcessInfo]) -> dict[str, Any]:
    """The ``processes`` part of ``/health/detailed``: state, pid, uptime and restarts of each process."""
    started = stack_started_at()
    restarts = restarts_since(started)
    now = time.time()
    return {
        "stack_started_at": started.isoformat() if started else None,
        "restarts": sum(restarts.values()),
        "programs": {
            name: {
                "state": info.state,
                "pid": info.pid,
                "started_at": _iso(info.started_at),
                "uptime_s": round(now - info.started_at, 1) if info.started_at and info.state == "RUNNING" else None,
                "restarts": restarts.get(name, 0),
                "detail": info.description,
            }
            for name, info in sorted(infos.items())
        },
    }


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat() if epoch else None


# --- the event listener's side -----------------------------------------------------------------


def parse_payload(payload: str) -> dict[str, str]:
    """``processname:web groupname:web from_state:RUNNING pid:42`` -> a dict (a process-state payload)."""
    return dict(token.split(":", 1) for token in payload.split() if ":" in token)


@dataclass
class Recorder:
    """Turns supervisord's events into the event log; keeps what it needs to tell a restart from a first start."""

    proxy: Any = None
    running_before: set[str] = field(default_factory=set)
    exited_at: dict[str, float] = field(default_factory=dict)
    stopping: bool = False
    timers: list[threading.Timer] = field(default_factory=list)

    def handle(self, event: str, payload: str) -> None:
        if event == "SUPERVISOR_STATE_CHANGE_RUNNING":
            self.stopping = False
            record(STACK_STARTED, actor=ACTOR, message="make run's supervisor started its processes")
            return
        if event == "SUPERVISOR_STATE_CHANGE_STOPPING":
            self.stopping = True
            return
        if not event.startswith("PROCESS_STATE_"):
            return
        fields = parse_payload(payload)
        name = fields.get("processname", "?")
        state = event.removeprefix("PROCESS_STATE_")
        handler = getattr(self, f"on_{state.lower()}", None)
        if handler is not None:
            handler(name, fields)

    def on_running(self, name: str, fields: dict[str, str]) -> None:
        if name not in self.running_before:
            self.running_before.add(name)
            return
        down_s = time.monotonic() - self.exited_at.pop(name, time.monotonic())
        record(
            PROCESS_RESTARTED,
            actor=ACTOR,
            message=f"{name} is running again (pid {fields.get('pid')}), {down_s:.1f}s after it went down",
            after={"process": name, "pid": _int(fields.get("pid")), "down_s": round(down_s, 2)},
        )

    def on_exited(self, name: str, fields: dict[str, str]) -> None:
        # Every program has autorestart=true, so any exit is unplanned: supervisord starts it again.
        self.exited_at.setdefault(name, time.monotonic())
        # How it ended (status or signal) is in supervisord.log: by the time this runs, supervisord has
        # already reset it for the next start.
        record(
            PROCESS_EXITED,
            actor=ACTOR,
            message=f"{name} (pid {fields.get('pid')}) exited unexpectedly; the supervisor restarts it",
            after={"process": name, "pid": _int(fields.get("pid")), "from_state": fields.get("from_state")},
        )

    def on_backoff(self, name: str, fields: dict[str, str]) -> None:
        self.exited_at.setdefault(name, time.monotonic())
        tries = fields.get("tries", "?")
        record(
            PROCESS_BACKOFF,
            actor=ACTOR,
            message=f"{name} died while starting (try {tries}); the supervisor waits longer before each retry",
            after={"process": name, "tries": _int(tries)},
        )

    def on_fatal(self, name: str, fields: dict[str, str]) -> None:
        record(
            PROCESS_FATAL,
            actor=ACTOR,
            message=f"{name} failed every start; it is tried again every {FATAL_RETRY_S:g}s",
            after={"process": name},
        )
        self._retry_later(name)

    def on_stopped(self, name: str, fields: dict[str, str]) -> None:
        if self.stopping:
            return  # Ctrl-C or a shutdown: everything stops on purpose
        self.running_before.discard(name)
        record(PROCESS_STOPPED, actor=ACTOR, message=f"{name} was stopped by an operator", after={"process": name})

    def _retry_later(self, name: str) -> None:
        if self.proxy is None:
            return

        def start() -> None:
            try:
                state = self.proxy.supervisor.getProcessInfo(name)["statename"]
                if state == "FATAL":
                    self.proxy.supervisor.startProcess(name, False)
            except Exception:  # it fails again -> FATAL again -> another retry is scheduled
                log.warning("retrying %s failed", name, exc_info=True)

        timer = threading.Timer(FATAL_RETRY_S, start)
        timer.daemon = True
        timer.start()
        self.timers = [t for t in self.timers if t.is_alive()] + [timer]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
