"""Liveness and timing of the orchestrator's own processes, written by each of them."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a process (worker, beat, watcher) proved it was alive; ``sampler``: its last round."""

    component = models.CharField(max_length=32, unique=True)
    seen_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.component} @ {self.seen_at:%H:%M:%S}"


class DurationBucket(models.Model):
    """A histogram shared by every process: one row per (metric, upper bound), counting observations.

    An observation increments every row whose bound is at least the duration, in one UPDATE, so
    the counts are cumulative as Prometheus expects. The row with the largest bound (``+Inf``)
    counts every observation and also carries their sum.
    """

    metric = models.CharField(max_length=32)
    le = models.FloatField()
    count = models.BigIntegerField(default=0)
    sum_s = models.FloatField(default=0.0)

    class Meta:
        # Named when the model lived in the health app; the constraint kept its name when the table moved.
        constraints = [models.UniqueConstraint(fields=["metric", "le"], name="health_durationbucket_metric_le")]

    def __str__(self) -> str:
        return f"{self.metric} le={self.le:g}: {self.count}"
