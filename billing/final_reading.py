"""The orchestrator's last look at a container's counters before it stops or restarts it itself.

Registered into ``containers.hooks.before_container_stop`` (scale-down, rollout, removal, a
deleted deployment) and ``before_container_restart``: the counters are read from the kernel (or
the stats API) right then, so the run is metered to its end instead of to the last sampling round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from billing import inventory
from billing.models import FinalReading
from containers.models import Container
from health import sources

log = logging.getLogger(__name__)
NOT_RUNNING = {Container.Status.CREATED, Container.Status.EXITED, Container.Status.DEAD}


def take(docker_ids: Sequence[str], reason: str) -> list[FinalReading]:
    """Read and keep the counters of those of ``docker_ids`` that run; remember every one of them."""
    rows = list(Container.objects.filter(docker_id__in=docker_ids).select_related("deployment"))
    inventory.remember(rows)
    # Rows about to go read "removing" already; those the mirror knows as not running have no counters.
    running = [row for row in rows if row.status not in NOT_RUNNING]
    readings = sources.read([row.docker_id for row in running]) if running else {}
    finals = [
        FinalReading(
            container_id=row.pk,
            docker_id=row.docker_id,
            taken_at=datetime.fromtimestamp(reading.at, tz=UTC),
            reason=reason,
            cpu_usage_ns=reading.cpu_usage_ns,
            memory_bytes=reading.memory_used_bytes,
            net_tx_bytes=reading.net_tx_bytes,
        )
        for row in running
        if (reading := readings.get(row.docker_id)) is not None
    ]
    FinalReading.objects.bulk_create(finals)
    return finals


def before_stop(docker_ids: Sequence[str]) -> None:
    take(docker_ids, FinalReading.Reason.STOP)


def before_restart(docker_ids: Sequence[str]) -> None:
    take(docker_ids, FinalReading.Reason.RESTART)
