"""A Celery worker bootstep that records the worker's heartbeat on its own timer.

Beat's tick would prove the worker alive only while beat runs too; this way
/health/detailed tells a dead worker from a dead beat.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps

log = logging.getLogger(__name__)


def _beat(hostname: str) -> None:
    from django.conf import settings
    from django.db import close_old_connections

    from orchestrator_site.processes import heartbeats

    try:
        heartbeats.beat("worker", hostname=hostname, instance=settings.ORCHESTRATOR_INSTANCE)
    except Exception:  # a briefly locked or unreachable database: the next beat tries again
        log.exception("worker heartbeat failed")
    finally:
        close_old_connections()


class WorkerHeartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        _beat(worker.hostname)
        self.tref = worker.timer.call_repeatedly(settings.HEARTBEAT_INTERVAL_S, _beat, (worker.hostname,), priority=10)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
