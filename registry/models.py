"""Service endpoints for discovery, the services they form, and the registry's change index.

Managed containers register themselves, external ones by API. Every deployment with a container
port and every name that has endpoints is a :class:`Service` with its own HAProxy frontend port.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from tenancy.models import Organization, default_organization_id


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
    # Whose service this is: a managed container's deployment's organization, or the registering caller's.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="endpoints", default=default_organization_id
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["service", "host", "port"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "service", "host", "port"], name="unique_service_address")
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.host}:{self.port}"


class Service(models.Model):
    """A named service: its endpoints share one load-balanced frontend on 127.0.0.1.

    The frontend port is chosen once and kept: a retired service keeps its row (and so its
    port), so no other service ever gets that port and the same name coming back gets it again.
    """

    class Mode(models.TextChoices):
        HTTP = "http"
        TCP = "tcp"

    name = models.SlugField(max_length=63, unique=True)
    frontend_port = models.PositiveIntegerField(
        unique=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.HTTP)
    # The registry index of this service's last change (endpoints, status, created or retired).
    modify_index = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # The organization whose deployment or endpoints made it. Service names (and frontends) are one
    # namespace on the host: another organization can't register endpoints under this name, and its
    # deployments' services are named "<its slug>-<deployment>" (see registry.services.name_for).
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services", default=default_organization_id
    )

    tenancy_path = "organization"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def lb_url(self) -> str:
        scheme = "http" if self.mode == self.Mode.HTTP else "tcp"
        return f"{scheme}://127.0.0.1:{self.frontend_port}/"


class RegistryIndex(models.Model):
    """One row: a number that grows with every change to any service (Consul's index)."""

    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)
