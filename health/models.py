"""Liveness of the orchestrator's own processes."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a process (worker, beat, watcher) proved it was alive."""

    component = models.CharField(max_length=32, unique=True)
    seen_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.component} @ {self.seen_at:%H:%M:%S}"
