"""Component checks behind ``/health/detailed``: is each part of the orchestrator answering right now?

Each check returns a :class:`Check`: ``ok``, ``degraded`` (answers, but something is off) or
``down``, how long it took and a sentence for an operator. The broker and the engine are asked
from a helper thread with a deadline, so a hung engine makes the answer slow by at most
``HEALTH_CHECK_TIMEOUT_S`` instead of the engine client's own, much longer, timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from containers import engine
from health import sampler
from orchestrator_site.processes import heartbeats

OK = "ok"
DEGRADED = "degraded"
DOWN = "down"
# Without these the orchestrator cannot do its job at all; the rest only slows it down.
ESSENTIAL = ("database", "engine")


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


def engine_check() -> Check:
    def run() -> tuple[str, str]:
        engine.ping()
        try:
            host = engine.host_info()
        except engine.EngineUnavailable:
            raise
        except engine.EngineError as exc:
            return DEGRADED, f"answers a ping but not a request for its version: {exc}"
        return OK, f"Docker {host.server_version}, {host.cpus} CPUs, {host.containers_running} containers running"

    return _timed(run)


def heartbeat(component: str, *, written_by: str = "") -> Check:
    """A process is up if it proved so within ``HEARTBEAT_STALE_S``."""

    def run() -> tuple[str, str]:
        seen = heartbeats.last_seen(component)
        suffix = f" ({written_by})" if written_by else ""
        if seen is None:
            return DOWN, f"no heartbeat ever recorded{suffix}"
        age = (timezone.now() - seen).total_seconds()
        if age > settings.HEARTBEAT_STALE_S:
            return DOWN, f"last heartbeat {age:.0f}s ago, more than {settings.HEARTBEAT_STALE_S:.0f}s{suffix}"
        return OK, f"last heartbeat {age:.1f}s ago"

    return _timed(run)


def sampler_check() -> Check:
    """The sampler is up if its last round started within ``HEALTH_SAMPLER_STALE_S``; the detail gives its lag."""

    def run() -> tuple[str, str]:
        state = sampler.status()
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


def run_all() -> dict[str, Check]:
    """Every component, in a stable order."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health-check")
    try:
        # Neither of these touches the database, so they can run on other threads.
        broker_result = _bounded(pool, broker)
        engine_result = _bounded(pool, engine_check)
        return {
            "database": database(),
            "broker": broker_result(),
            "worker": heartbeat("worker", written_by="written when it runs beat's tick or /test/integration's ping"),
            # Beat's tick is recorded by a worker, so a beat "down" while the worker is down proves little.
            "beat": heartbeat("beat", written_by="recorded by a worker running beat's tick"),
            "watcher": heartbeat("watcher"),
            "engine": engine_result(),
            "sampler": sampler_check(),
        }
    finally:
        # A hung check keeps its thread until the client's own timeout; nobody waits for it.
        pool.shutdown(wait=False, cancel_futures=True)


def overall(checks: dict[str, Check]) -> str:
    """``ok`` if every component is; ``down`` if an essential one is; else ``degraded``."""
    if all(check.status == OK for check in checks.values()):
        return OK
    if any(checks[name].status == DOWN for name in ESSENTIAL if name in checks):
        return DOWN
    return DEGRADED
