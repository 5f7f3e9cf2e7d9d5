"""Recording and reading the heartbeats of the worker, beat and watcher, and claiming periodic jobs.

A claim is a heartbeat row too (``<job>-claim``): whoever moves it forward takes the tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from orchestrator_site.processes.models import Heartbeat


def beat(component: str, **detail: Any) -> None:
    Heartbeat.objects.update_or_create(component=component, defaults={"seen_at": timezone.now(), "detail": detail})


def last_seen(component: str) -> datetime | None:
    return Heartbeat.objects.filter(component=component).values_list("seen_at", flat=True).first()


def claim(job: str, gap_s: float, now: datetime | None = None) -> bool:
    """Whether this process runs the periodic ``job`` now: no process took it in the last ``gap_s`` seconds.

    A conditional UPDATE, so two workers handed overlapping beat ticks (or two beats) never both run it.
    """
    now = now or timezone.now()
    component = f"{job}-claim"
    if Heartbeat.objects.filter(component=component, seen_at__lte=now - timedelta(seconds=gap_s)).update(seen_at=now):
        return True
    _, created = Heartbeat.objects.get_or_create(component=component, defaults={"seen_at": now, "detail": {}})
    return created
