"""``/test/integration``: exercise every part of the orchestrator for real and report each.

Unlike ``/health/detailed`` (which asks whether things answer), this makes each part do its
job: the database writes, reads and deletes a row (rolled back), the broker carries a task, a
worker runs it, the engine starts and removes a probe container from the demo image.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from containers import engine
from health import checks
from orchestrator_site.processes.models import Heartbeat

LABEL_PROBE = "orchestrator.probe"
PASSED = "ok"
FAILED = "down"


class PartFailed(Exception):
    """The part ran but did not do what it should; the message says what went wrong."""


@dataclass(frozen=True)
class Part:
    status: str
    duration_ms: float
    message: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run(fn: Callable[[], str]) -> Part:
    started = time.perf_counter()
    try:
        status, message = PASSED, fn()
    except Exception as exc:  # the report names every failure; nothing escapes to a 500
        status, message = FAILED, str(exc) if isinstance(exc, PartFailed) else f"{exc.__class__.__name__}: {exc}"
    return Part(status, round((time.perf_counter() - started) * 1000, 1), message)


def database() -> str:
    token = secrets.token_hex(8)
    with transaction.atomic():
        Heartbeat.objects.create(component=f"integration-{token}", seen_at=timezone.now(), detail={"token": token})
        row = Heartbeat.objects.get(component=f"integration-{token}")
        if row.detail.get("token") != token:
            raise PartFailed(f"wrote token {token} but read back {row.detail!r}")
        row.delete()
        if Heartbeat.objects.filter(component=f"integration-{token}").exists():
            raise PartFailed("a deleted row is still there")
        # Nothing of the probe is kept, even if a delete were silently ignored.
        transaction.set_rollback(True)
    return "wrote, read back and deleted a row (rolled back)"


def publish_ping(token: str) -> str:
    """Put a ping task for the workers on the broker.

    It expires when the wait for it ends: a late worker must not run it after a later run's ping
    and overwrite that run's token in the heartbeat.
    """
    from health.tasks import ping_worker
    from orchestrator_site.celery import app

    timeout = settings.HEALTH_CHECK_TIMEOUT_S
    with app.connection_for_write() as conn:
        # Bounded: a broker that is down fails here instead of blocking the publish forever.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=timeout)
        ping_worker.apply_async(
            args=[token],
            connection=conn,
            retry=False,
            expires=timezone.now() + timedelta(seconds=settings.INTEGRATION_WORKER_TIMEOUT_S),
        )
    return f"published a ping task to the {conn.transport_cls} broker"


def wait_for_worker(token: str) -> str:
    """A worker proves it ran this very ping by recording its token in its heartbeat."""
    timeout = settings.INTEGRATION_WORKER_TIMEOUT_S
    deadline = time.monotonic() + timeout
    while True:
        detail = Heartbeat.objects.filter(component="worker").values_list("detail", flat=True).first()
        if detail and detail.get("token") == token:
            return "a worker ran the ping task"
        if time.monotonic() > deadline:
            raise PartFailed(f"no worker ran the ping task within {timeout:g}s: is a Celery worker running?")
        time.sleep(0.05)


def engine_probe() -> str:
    """Start and remove a throwaway container of the demo image; it is never left behind."""
    spec = engine.ContainerSpec(
        name=f"orchestrator-probe-{secrets.token_hex(4)}",
        image=settings.DEMO_IMAGE,
        labels={**engine.instance_labels(), LABEL_PROBE: "1"},
        cpu_limit=0.05,
        memory_limit_bytes=16 * 1024 * 1024,
    )
    try:
        detail = engine.run_container(spec)
        if not detail.info.running:
            raise PartFailed(f"the probe container is {detail.info.state} (exit code {detail.info.exit_code})")
    except engine.ImageNotFound as exc:
        raise PartFailed(f"the demo image {settings.DEMO_IMAGE} is not on the engine: {exc}") from exc
    finally:
        try:
            engine.remove_container(spec.name)
        except engine.EngineError:
            pass  # the engine failing is already what this part reports
    return f"started and removed a probe container of {settings.DEMO_IMAGE}"


def watcher() -> str:
    check = checks.heartbeat("watcher")
    if check.status != checks.OK:
        raise PartFailed(f"the engine watcher is not running: {check.detail}")
    return check.detail


def run() -> dict[str, Part]:
    """Every part, in a stable order. The worker's ping travels while the engine probe runs."""
    token = secrets.token_hex(8)
    db = _run(database)
    broker = _run(lambda: publish_ping(token))
    published = time.perf_counter()
    engine_part = _run(engine_probe)
    if broker.passed:
        worker = _run(lambda: wait_for_worker(token))
        # Counted from the publish, so the engine probe's time is not charged to the worker.
        worker = Part(worker.status, round((time.perf_counter() - published) * 1000, 1), worker.message)
    else:
        worker = Part(FAILED, 0.0, "not tried: the ping task could not be published")
    return {
        "database": db,
        "broker": broker,
        "worker": worker,
        "watcher": _run(watcher),
        "engine": engine_part,
    }
