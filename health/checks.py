"""Component checks behind ``/health/detailed``: is each part of the orchestrator answering right now?

Each check returns a :class:`Check`: ``ok``, ``degraded`` (answers, but something is off),
``starting`` (its process started lately and has not reported since) or ``down``, how long it took
and a sentence for an operator. Under ``make run``'s supervisor the start times come from
supervisord, so right after a start (or a restart) a component is ``starting``, not ``down``.
The broker and the engine are asked from a helper thread with a deadline, so a hung engine makes
the answer slow by at most ``HEALTH_CHECK_TIMEOUT_S`` instead of the engine client's own, much longer, timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from containers import engine
from health import sampler, supervision
from orchestrator_site.processes import heartbeats

OK = "ok"
DEGRADED = "degraded"
DOWN = "down"
STARTING = "starting"
# Without these the orchestrator cannot do its job at all; the rest only slows it down.
ESSENTIAL = ("database", "engine")
# The supervised programs a component's reports depend on: until it reports after the latest start
# of these, it is starting (beat's tick and the sampler's rounds are run by a worker).
PROGRAMS = {
    "broker": ("redis",),
    "worker": ("worker",),
    "beat": ("beat", "worker"),
    "watcher": ("watcher",),
    "sampler": ("beat", "worker"),
}
Infos = dict[str, supervision.ProcessInfo] | None


@dataclass(frozen=True)
class Check:
    status: str
    latency_ms: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed(fn: Callable[[], tuple[str, str]]) -> Check:
    started = time.perf_counter()
    try:
        status, detail = fn()
    except Exception as exc:  # a health check reports failures, it never raises them
        status, detail = DOWN, f"{exc.__class__.__name__}: {exc}"
    return Check(status, round((time.perf_counter() - started) * 1000, 1), detail)


def database() -> Check:
    def run() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return OK, f"{connection.vendor} answers"

    return _timed(run)


def broker() -> Check:
    def run() -> tuple[str, str]:
        from orchestrator_site.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.2, timeout=settings.HEALTH_CHECK_TIMEOUT_S
            )
            return OK, f"{conn.transport_cls} broker accepts connections"

    return _timed(run)


def engine_ping() -> Check:
    def run() -> tuple[str, str]:
        engine.ping()
        return OK, "answers a ping"

    return _timed(run)


def engine_check(pool: ThreadPoolExecutor) -> Callable[[], Check]:
    """Whether the engine answers: its ping decides, within the deadline. Its system info (``docker
    info``: version, CPUs, containers running) is asked at the same time, for the sentence only: the engine
    answers it far more slowly than a ping (0.05-0.7 s against 1-70 ms here while the soak ran, and more
    while it is busy starting and removing containers), and an engine that answers must not be reported
    down, which fails ``/health/detailed`` with a 503, because its ``info`` is slow."""
    started = time.perf_counter()
    ping = _bounded(pool, engine_ping)
    info: Future[engine.HostInfo] = pool.submit(engine.host_info)

    def result() -> Check:
        pinged = ping()
        if pinged.status != OK:
            return pinged
        remaining = settings.HEALTH_CHECK_TIMEOUT_S - (time.perf_counter() - started)
        try:
            host = info.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            return Check(
                OK,
                pinged.latency_ms,
                f"answers a ping; busy: its system info (docker info) took longer than "
                f"{settings.HEALTH_CHECK_TIMEOUT_S:g}s",
            )
        except engine.EngineUnavailable as exc:
            return Check(DOWN, pinged.latency_ms, f"{exc.__class__.__name__}: {exc}")
        except engine.EngineError as exc:
            return Check(DEGRADED, pinged.latency_ms, f"answers a ping but not a request for its version: {exc}")
        return Check(
            OK,
            round((time.perf_counter() - started) * 1000, 1),
            f"Docker {host.server_version}, {host.cpus} CPUs, {host.containers_running} containers running",
        )

    return result


def started_at(component: str, infos: Infos) -> float | None:
    """The latest start (epoch s) of the supervised programs ``component`` depends on, if supervised."""
    if not infos:
        return None
    starts = [
        info.started_at
        for name in PROGRAMS.get(component, ())
        if (info := infos.get(name)) and info.started_at and info.state in ("STARTING", "RUNNING")
    ]
    return max(starts, default=None)


def _starting(started: float | None, last_report: datetime | None, grace_s: float) -> str | None:
    """The detail of a ``starting`` status when the component's process started within ``grace_s`` and
    the component has not reported since; else None."""
    if started is None or (last_report is not None and last_report.timestamp() >= started):
        return None
    age = time.time() - started
    if age > grace_s:
        return None
    return f"its process started {age:.1f}s ago and has not reported yet"


def heartbeat(component: str, *, written_by: str = "", started: float | None = None) -> Check:
    """A process is up if it proved so within ``HEARTBEAT_STALE_S``; starting if it started since."""

    def run() -> tuple[str, str]:
        seen = heartbeats.last_seen(component)
        suffix = f" ({written_by})" if written_by else ""
        if (detail := _starting(started, seen, settings.HEARTBEAT_STALE_S)) is not None:
            return STARTING, detail
        if seen is None:
            return DOWN, f"no heartbeat ever recorded{suffix}"
        age = (timezone.now() - seen).total_seconds()
        if age > settings.HEARTBEAT_STALE_S:
            return DOWN, f"last heartbeat {age:.0f}s ago, more than {settings.HEARTBEAT_STALE_S:.0f}s{suffix}"
        return OK, f"last heartbeat {age:.1f}s ago"

    return _timed(run)


def sampler_check(started: float | None = None) -> Check:
    """The sampler is up if its last round started within ``HEALTH_SAMPLER_STALE_S``; the detail gives its lag."""

    def run() -> tuple[str, str]:
        state = sampler.status()
        if (detail := _starting(started, state.last_round_at, settings.HEALTH_SAMPLER_STALE_S)) is not None:
            return STARTING, detail
        if state.last_round_at is None or state.age_s is None:
            return DOWN, "no sampling round recorded (written by a worker running beat's sampling tick)"
        took = state.detail.get("duration_ms")
        summary = (
            f"last round {state.age_s:.1f}s ago, lag {state.lag_s:.1f}s behind the {state.interval_s:g}s interval"
            + (f"; {state.detail.get('containers', 0)} containers in {took:.0f} ms" if took is not None else "")
        )
        if state.age_s > settings.HEALTH_SAMPLER_STALE_S:
            return DOWN, f"{summary}: more than {settings.HEALTH_SAMPLER_STALE_S:g}s"
        return OK, summary

    return _timed(run)


def loadbalancer_check() -> Check:
    """HAProxy answers on its admin socket and its servers agree with the registry."""

    def run() -> tuple[str, str]:
        from registry import haproxy, loadbalancer

        if not settings.LB_ENABLED:
            return OK, "disabled (LB_ENABLED=0)"
        if not haproxy.alive():
            return DOWN, f"HAProxy does not answer on {haproxy.admin_socket()}; the next load balancer tick starts it"
        behind = loadbalancer.differences()
        if behind:
            return DEGRADED, f"HAProxy differs from the registry ({len(behind)} changes pending): {behind[0]}"
        return OK, "HAProxy answers and agrees with the registry"

    return _timed(run)


def _bounded(pool: ThreadPoolExecutor, fn: Callable[[], Check]) -> Callable[[], Check]:
    """Start ``fn`` now in ``pool``; the returned callable waits for it until the deadline."""
    started = time.perf_counter()
    future: Future[Check] = pool.submit(fn)

    def result() -> Check:
        remaining = settings.HEALTH_CHECK_TIMEOUT_S - (time.perf_counter() - started)
        try:
            return future.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            waited = round((time.perf_counter() - started) * 1000, 1)
            return Check(DOWN, waited, f"no answer within {settings.HEALTH_CHECK_TIMEOUT_S:g}s")

    return result


def supervised() -> Infos:
    """The supervised processes (None outside ``make run``'s supervisor); a supervisor that does not
    answer counts as none, so the components are judged on their own reports."""
    try:
        return supervision.process_infos(timeout=settings.HEALTH_CHECK_TIMEOUT_S)
    except Exception:
        return None


def run_all() -> tuple[dict[str, Check], Infos]:
    """Every component, in a stable order, and the supervised processes they were judged with."""
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health-check")
    try:
        # None of these touches the database, so they can run on other threads.
        infos_future = pool.submit(supervised)
        broker_result = _bounded(pool, broker)
        engine_result = engine_check(pool)
        try:
            infos = infos_future.result(timeout=settings.HEALTH_CHECK_TIMEOUT_S)
        except FutureTimeout:
            infos = None
        checks = {
            "database": database(),
            "broker": broker_result(),
            "worker": heartbeat(
                "worker",
                written_by="written when it runs beat's tick or /test/integration's ping",
                started=started_at("worker", infos),
            ),
            # Beat's tick is recorded by a worker, so a beat "down" while the worker is down proves little.
            "beat": heartbeat(
                "beat", written_by="recorded by a worker running beat's tick", started=started_at("beat", infos)
            ),
            "watcher": heartbeat("watcher", started=started_at("watcher", infos)),
            "engine": engine_result(),
            "sampler": sampler_check(started=started_at("sampler", infos)),
            "loadbalancer": loadbalancer_check(),
        }
        broker_started = started_at("broker", infos)
        if checks["broker"].status == DOWN and (detail := _starting(broker_started, None, 10.0)):
            checks["broker"] = Check(STARTING, checks["broker"].latency_ms, detail)
        return checks, infos
    finally:
        # A hung check keeps its thread until the client's own timeout; nobody waits for it.
        pool.shutdown(wait=False, cancel_futures=True)


def overall(checks: dict[str, Check]) -> str:
    """``ok`` if every component is; ``down`` if an essential one is; ``starting`` if every component
    that is not ok is still starting; else ``degraded``."""
    if all(check.status == OK for check in checks.values()):
        return OK
    if any(checks[name].status == DOWN for name in ESSENTIAL if name in checks):
        return DOWN
    if all(check.status in (OK, STARTING) for check in checks.values()):
        return STARTING
    return DEGRADED
