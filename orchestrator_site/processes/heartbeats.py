"""Recording and reading the heartbeats of the worker, beat and watcher."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from orchestrator_site.processes.models import Heartbeat


def beat(component: str, **detail: Any) -> None:
    Heartbeat.objects.update_or_create(component=component, defaults={"seen_at": timezone.now(), "detail": detail})


def last_seen(component: str) -> datetime | None:
    return Heartbeat.objects.filter(component=component).values_list("seen_at", flat=True).first()
