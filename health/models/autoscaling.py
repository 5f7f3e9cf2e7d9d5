"""Autoscalers: a deployment's replicas kept between bounds by its CPU use."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from containers.models import Deployment


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

    tenancy_path = "deployment__organization"

    class Meta:
        ordering = ["deployment_id"]

    def __str__(self) -> str:
        return f"autoscaler of {self.deployment}"
