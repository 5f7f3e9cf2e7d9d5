"""Service endpoints for discovery: managed containers register themselves, external ones by API."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ServiceEndpoint(models.Model):
    """One address (host:port) serving a named service, with its current status."""

    class Status(models.TextChoices):
        UNKNOWN = "unknown"
        HEALTHY = "healthy"
        UNHEALTHY = "unhealthy"
        DRAINING = "draining"

    class Protocol(models.TextChoices):
        HTTP = "http"
        TCP = "tcp"

    service = models.SlugField(max_length=63, db_index=True)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(65535)])
    protocol = models.CharField(max_length=8, choices=Protocol.choices, default=Protocol.HTTP)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNKNOWN)
    metadata = models.JSONField(default=dict, blank=True)
    # Set for endpoints the orchestrator registered for its own containers.
    container = models.OneToOneField(
        "containers.Container", null=True, blank=True, on_delete=models.CASCADE, related_name="endpoint"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "host", "port"]
        constraints = [models.UniqueConstraint(fields=["service", "host", "port"], name="unique_service_address")]

    def __str__(self) -> str:
        return f"{self.service} {self.host}:{self.port}"
