"""Follow the engine's event stream and turn container deaths into immediate reconciles.

A death is converged here, in one of a few threads (``WATCHER_CONVERGE_THREADS``), as a node agent
heals what runs on its node: the replacement starts without waiting for the broker to hand a task to a
worker that may be busy. The deployment's lock keeps it from running beside a worker's converge of the
same deployment. When those threads are all busy, or a converge here fails, the death goes to the
workers through the broker as before (they retry while the engine is away).

The stream can drop messages (and is gone while the engine restarts), so the beat tick
stays the safety net; after every reconnect a full reconcile catches up on what was missed.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from containers import engine
from containers.models import Container
from containers.tasks import converge_deployment, reconcile_all
from orchestrator_site.processes import heartbeats

log = logging.getLogger(__name__)

# Events that mean a deployment may have fewer containers than it wants.
TRIGGERS = ["die", "oom", "destroy"]
RETRY_MAX_S = 10.0


def handle(event: engine.EngineEvent) -> int | None:
    """Queue a converge for the deployment the event's container belongs to; returns its id, or None
    when there is nothing to converge."""
    raw = event.labels.get(engine.LABEL_DEPLOYMENT, "")
    if not raw.isdigit() or ours(event):
        return None
    if event.action == "die":
        # What the event says (which container, its exit code, when) travels with the converge, so it
        # need not wait for the engine to finish recording the death before it starts a replacement.
        code = event.labels.get("exitCode", "")
        heal(
            int(raw),
            died=event.container_id,
            exit_code=int(code) if code.lstrip("-").isdigit() else None,
            died_at_ns=event.time_nano,
        )
    else:
        heal(int(raw), died=event.container_id if event.action != "destroy" else "")
    return int(raw)


class Healer:
    """Converges in this process, in at most ``threads`` threads at once; None when the broker must take it."""

    def __init__(self, threads: int) -> None:
        self.free = threading.BoundedSemaphore(threads)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="watcher-converge")

    def submit(self, deployment_id: int, arguments: dict[str, Any]) -> bool:
        if not self.free.acquire(blocking=False):
            return False
        self.pool.submit(self._converge, deployment_id, arguments)
        return True

    def _converge(self, deployment_id: int, arguments: dict[str, Any]) -> None:
        try:
            converge_deployment(deployment_id, **arguments)  # the task's body, run here
        except Exception:
            # The workers retry while the engine is away, and a failure here must not be lost.
            log.exception("converging deployment %s here failed; handing it to the workers", deployment_id)
            converge_deployment.delay(deployment_id, **arguments)
        finally:
            connection.close()  # this thread's own connection: threads are reused, connections not kept
            self.free.release()


_healer: Healer | None = None
_healer_lock = threading.Lock()


def heal(deployment_id: int, **arguments: Any) -> None:
    """Converge the deployment for what an event said: here when a thread is free, else through the broker."""
    global _healer
    threads = settings.WATCHER_CONVERGE_THREADS
    if threads > 0:
        with _healer_lock:
            if _healer is None:
                _healer = Healer(threads)
        if _healer.submit(deployment_id, arguments):
            return
    converge_deployment.delay(deployment_id, **arguments)


def ours(event: engine.EngineEvent) -> bool:
    """The event of a removal the orchestrator made itself: it already converged, so no converge is queued.

    Before removing a container the orchestrator marks its row ``removing`` and deletes the row after;
    a ``destroy`` of a container with no row left (or still marked) is therefore ours. One an operator
    removed by hand still has its row, so it is converged at once.
    """
    rows = Container.objects.filter(docker_id=event.container_id)
    try:
        if event.action == "destroy":
            return not rows.exclude(status=Container.Status.REMOVING).exists()
        return rows.filter(status=Container.Status.REMOVING).exists()
    except DatabaseError:
        # The database is briefly away: converge anyway (a converge too many costs little).
        log.exception("could not tell whether %s was removed by the orchestrator", event.container_id[:12])
        close_old_connections()
        return False


def follow(stop: threading.Event) -> None:
    """Follow events until ``stop`` is set, reconnecting with backoff while the engine is away."""
    delay = 0.5
    while not stop.is_set():
        try:
            engine.ping()
            reconcile_all.delay()  # catch up on anything missed while we were not listening
            delay = 0.5
            log.info("following engine events for instance %s", settings.ORCHESTRATOR_INSTANCE)
            for event in engine.events(engine.instance_labels(), TRIGGERS):
                deployment_id = handle(event)
                if deployment_id is None:
                    log.info(
                        "%s %s: the orchestrator's own removal, nothing to converge",
                        event.action,
                        event.container_id[:12],
                    )
                else:
                    log.info("%s %s -> converge deployment %s", event.action, event.container_id[:12], deployment_id)
                if stop.is_set():
                    return
        except engine.EngineUnavailable as exc:
            log.warning("engine unavailable (%s); retrying in %.1fs", exc, delay)
            engine.reset_client()
        stop.wait(delay)
        delay = min(delay * 2, RETRY_MAX_S)


def beat_forever(stop: threading.Event) -> None:
    """Prove the watcher is alive, for /health/detailed."""
    while not stop.is_set():
        try:
            heartbeats.beat("watcher", instance=settings.ORCHESTRATOR_INSTANCE)
        except Exception:  # the database may be briefly locked or away; try again next beat
            log.exception("watcher heartbeat failed")
        finally:
            close_old_connections()
        stop.wait(settings.HEARTBEAT_INTERVAL_S)


def run() -> None:
    stop = threading.Event()
    threading.Thread(target=beat_forever, args=(stop,), name="watcher-heartbeat", daemon=True).start()
    try:
        follow(stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
