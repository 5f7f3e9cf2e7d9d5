"""Liveness of the orchestrator's own processes, and the health of the containers it runs.

Time series (raw snapshots and their rollups) refer to containers and deployments by id without a
database constraint: a removed container's history outlives its row until retention prunes it, and
removing a container never has to touch millions of points.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from containers.models import Container, Deployment


class Heartbeat(models.Model):
    """The last time a process (worker, beat, watcher) proved it was alive; ``sampler``: its last round."""

    component = models.CharField(max_length=32, unique=True)
    seen_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.component} @ {self.seen_at:%H:%M:%S}"


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

    class Meta:
        verbose_name_plural = "container health"
        indexes = [models.Index(fields=["health_class"])]

    def __str__(self) -> str:
        return f"{self.container_id}: {self.health_class}"


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
        constraints = [models.UniqueConstraint(fields=["metric", "le"], name="health_durationbucket_metric_le")]

    def __str__(self) -> str:
        return f"{self.metric} le={self.le:g}: {self.count}"


# --- probes, alerts, autoscaling -------------------------------------------------------------


class Probe(models.Model):
    """A check the orchestrator runs against each running container of a deployment, on its port published
    on 127.0.0.1, so images need no curl. Liveness failures restart the container; readiness sets its
    service endpoint's status."""

    class Kind(models.TextChoices):
        LIVENESS = "liveness"
        READINESS = "readiness"

    class Type(models.TextChoices):
        HTTP = "http"
        TCP = "tcp"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="probes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    type = models.CharField(max_length=4, choices=Type.choices, default=Type.HTTP)
    path = models.CharField(max_length=255, default="/", blank=True)
    expected_status = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(100), MaxValueValidator(599)]
    )
    timeout_s = models.FloatField(default=1.0, validators=[MinValueValidator(0.1), MaxValueValidator(30.0)])
    period_s = models.FloatField(default=10.0, validators=[MinValueValidator(1.0), MaxValueValidator(3600.0)])
    failure_threshold = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployment_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["deployment", "kind"], name="health_probe_deployment_kind")]

    def __str__(self) -> str:
        return f"{self.deployment} {self.kind} {self.type}"


class ProbeResult(models.Model):
    """The latest result of one probe on one container, and how many failed in a row."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    container = models.ForeignKey(Container, on_delete=models.CASCADE, related_name="probe_results")
    ok = models.BooleanField()
    status_code = models.IntegerField(null=True, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    checked_at = models.DateTimeField()
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["probe", "container"], name="health_proberesult_probe_container")
        ]

    def __str__(self) -> str:
        return f"{self.probe} on {self.container_id}: {'ok' if self.ok else 'failed'}"


class AlertRule(models.Model):
    """Which events to alert on (``event_kinds``, see :data:`health.alerts.KINDS`), for which deployment
    (all when empty), where to deliver (a webhook and/or email addresses), and the quiet time per deployment."""

    name = models.CharField(max_length=100)
    event_kinds = models.JSONField(default=list)
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules"
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    emails = models.JSONField(default=list, blank=True)
    cooldown_s = models.PositiveIntegerField(default=300)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(models.Model):
    """One attempt to deliver one event for one rule on one channel (or its suppression by the cooldown)."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Status(models.TextChoices):
        SENT = "sent"
        FAILED = "failed"
        SUPPRESSED = "suppressed"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("containers.Event", on_delete=models.CASCADE, related_name="+")
    # The event's deployment, kept here for the cooldown check (per rule and deployment).
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    response_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "alert deliveries"
        indexes = [models.Index(fields=["rule", "deployment", "status", "at"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.channel} {self.status} @ {self.at:%H:%M:%S}"


class AlertCursor(models.Model):
    """The id of the last event the alert scanner has looked at (one row)."""

    name = models.CharField(max_length=32, unique=True)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"


class Autoscaler(models.Model):
    """Scales a deployment between ``min_replicas`` and ``max_replicas`` to keep its average CPU % (of each
    container's limit) near ``target_cpu_pct``; scale-downs wait out ``stabilization_s``.

    ``recommendations`` keeps ``[epoch seconds, replicas]`` pairs from the last window.
    """

    deployment = models.OneToOneField(Deployment, on_delete=models.CASCADE, related_name="autoscaler")
    enabled = models.BooleanField(default=True)
    min_replicas = models.PositiveIntegerField(default=1, validators=[MaxValueValidator(10_000)])
    max_replicas = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(10_000)])
    target_cpu_pct = models.FloatField(default=70.0, validators=[MinValueValidator(1.0), MaxValueValidator(100.0)])
    stabilization_s = models.PositiveIntegerField(default=300, validators=[MaxValueValidator(86_400)])
    recommendations = models.JSONField(default=list, blank=True)
    last_scaled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployment_id"]

    def __str__(self) -> str:
        return f"autoscaler of {self.deployment}"
