"""Liveness and readiness probes, and the latest result of each on each container."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from containers.models import Container, Deployment


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

    tenancy_path = "deployment__organization"

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

    tenancy_path = "probe__deployment__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["probe", "container"], name="health_proberesult_probe_container")
        ]

    def __str__(self) -> str:
        return f"{self.probe} on {self.container_id}: {'ok' if self.ok else 'failed'}"
