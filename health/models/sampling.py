"""The health of the containers: each one's current class and figures, raw snapshots and their rollups.

Time series (raw snapshots and their rollups) refer to containers and deployments by id without a
database constraint: a removed container's history outlives its row until retention prunes it, and
removing a container never has to touch millions of points.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from containers.models import Container, Deployment
from tenancy.models import Organization, keep_parent_organization


class HealthClass(models.TextChoices):
    """The seed's classes: by CPU and memory use against thresholds, or stopped."""

    HEALTHY = "healthy"
    WARNING = "warning"
    CRITICAL = "critical"
    STOPPED = "stopped"


class ContainerHealth(models.Model):
    """A container's current class and latest figures, rewritten by every sampling round.

    It also holds the previous cumulative CPU reading, from which the next round computes CPU %.
    """

    container = models.OneToOneField(Container, on_delete=models.CASCADE, primary_key=True, related_name="health")
    # Its container's organization, kept on the row (the sampler writes it with the figures): the fleet page
    # counts an organization's containers per class from the (organization, health_class) index instead of
    # joining every row to its container.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    health_class = models.CharField(max_length=10, choices=HealthClass.choices)
    class_since = models.DateTimeField()
    sampled_at = models.DateTimeField()
    # "cgroup" (read from the kernel's files) or "api" (the engine's stats API).
    source = models.CharField(max_length=8, blank=True)
    cpu_pct = models.FloatField(null=True, blank=True)
    memory_bytes = models.BigIntegerField(null=True, blank=True)
    memory_pct = models.FloatField(null=True, blank=True)
    memory_limit_bytes = models.BigIntegerField(null=True, blank=True)
    pids = models.IntegerField(null=True, blank=True)
    cpu_usage_ns = models.BigIntegerField(null=True, blank=True)
    net_rx_bytes = models.BigIntegerField(null=True, blank=True)
    net_tx_bytes = models.BigIntegerField(null=True, blank=True)
    blk_read_bytes = models.BigIntegerField(null=True, blank=True)
    blk_write_bytes = models.BigIntegerField(null=True, blank=True)

    tenancy_path = "organization"

    class Meta:
        verbose_name_plural = "container health"
        indexes = [
            models.Index(fields=["health_class"]),
            models.Index(fields=["organization", "health_class"], name="health_org_class"),
        ]

    def __str__(self) -> str:
        return f"{self.container_id}: {self.health_class}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Always its container's organization (the sampler's upsert passes it; this covers direct creates).
        keep_parent_organization(self, "container")
        super().save(*args, **kwargs)


class Snapshot(models.Model):
    """One raw sample of one container. Cumulative counters are kept as read: billing meters from them.

    Gauges and counters are null when the container is not running (or a figure could not be read).
    """

    container = models.ForeignKey(Container, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    deployment = models.ForeignKey(Deployment, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    taken_at = models.DateTimeField()
    running = models.BooleanField()
    health_class = models.CharField(max_length=10, choices=HealthClass.choices)
    cpu_pct = models.FloatField(null=True)
    memory_bytes = models.BigIntegerField(null=True)
    memory_pct = models.FloatField(null=True)
    pids = models.IntegerField(null=True)
    cpu_usage_ns = models.BigIntegerField(null=True)
    net_rx_bytes = models.BigIntegerField(null=True)
    net_tx_bytes = models.BigIntegerField(null=True)
    blk_read_bytes = models.BigIntegerField(null=True)
    blk_write_bytes = models.BigIntegerField(null=True)

    tenancy_path = "deployment__organization"

    class Meta:
        indexes = [
            models.Index(fields=["container", "taken_at"]),
            # Retention prunes and rollups scan by time across all containers.
            models.Index(fields=["taken_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.container_id} @ {self.taken_at:%H:%M:%S}"


class Rollup(models.Model):
    """Raw snapshots summarised per container and time bucket: averages, maxima, last counters.

    ``cpu_samples`` and ``memory_samples`` count the points behind the averages, so coarser
    buckets can be built from finer ones exactly (averages weighted by these counts).
    """

    container = models.ForeignKey(Container, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    deployment = models.ForeignKey(Deployment, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    bucket = models.DateTimeField()
    samples = models.PositiveIntegerField()
    cpu_samples = models.PositiveIntegerField()
    cpu_pct_avg = models.FloatField(null=True)
    cpu_pct_max = models.FloatField(null=True)
    memory_samples = models.PositiveIntegerField()
    memory_bytes_avg = models.FloatField(null=True)
    memory_bytes_max = models.BigIntegerField(null=True)
    memory_pct_avg = models.FloatField(null=True)
    memory_pct_max = models.FloatField(null=True)
    # The last value of each cumulative counter in the bucket.
    cpu_usage_ns = models.BigIntegerField(null=True)
    net_rx_bytes = models.BigIntegerField(null=True)
    net_tx_bytes = models.BigIntegerField(null=True)
    blk_read_bytes = models.BigIntegerField(null=True)
    blk_write_bytes = models.BigIntegerField(null=True)

    tenancy_path = "deployment__organization"

    class Meta:
        abstract = True
        constraints = [
            # Doubles as the (container, time) index the history endpoint reads by.
            models.UniqueConstraint(fields=["container", "bucket"], name="%(app_label)s_%(class)s_container_bucket"),
        ]
        indexes = [models.Index(fields=["bucket"], name="%(app_label)s_%(class)s_bucket")]

    def __str__(self) -> str:
        return f"{self.container_id} @ {self.bucket:%Y-%m-%d %H:%M}"


class MinuteRollup(Rollup):
    """1-minute buckets, built from raw snapshots."""


class HourRollup(Rollup):
    """1-hour buckets, built from the 1-minute buckets (exactly: weighted averages, maxima, last values)."""
