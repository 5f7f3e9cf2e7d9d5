"""Billing's memory of the containers it meters: owner, names and limits, kept after they are gone.

Health's snapshots name a container by its row's id only; once the container (or its whole
deployment) is removed, that id says nothing. So billing copies what it needs while the rows
still exist: after a converge created them, just before the orchestrator stops them, and on
every metering run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from django.db.models import QuerySet
from django.utils import timezone

from billing.models import MeteredContainer
from containers.models import Container

FIELDS = ["docker_id", "name", "deployment_id", "deployment_name", "organization", "cpu_limit", "memory_limit_bytes"]


def remember(rows: Iterable[Container]) -> int:
    """Upsert the registry entries of ``rows`` (with their deployments loaded); returns how many."""
    now = timezone.now()
    entries = []
    for row in rows:
        deployment = row.deployment
        entries.append(
            MeteredContainer(
                container_id=row.pk,
                docker_id=row.docker_id,
                name=row.name,
                deployment_id=deployment.pk,
                deployment_name=deployment.name,
                # Usage is the organization's that owns the deployment (tenancy's customers).
                organization_id=cast(int, deployment.organization_id),
                cpu_limit=deployment.cpu_limit,
                memory_limit_bytes=deployment.memory_limit_bytes,
                started_at=row.started_at,
                seen_at=now,
            )
        )
    if entries:
        # started_at is kept from the first sighting: it is the container's own start instant.
        MeteredContainer.objects.bulk_create(
            entries, update_conflicts=True, unique_fields=["container_id"], update_fields=[*FIELDS, "seen_at"]
        )
    return len(entries)


def remember_all(queryset: QuerySet[Container] | None = None) -> int:
    return remember((queryset or Container.objects.all()).select_related("deployment"))


def after_converge(deployment_id: int) -> None:
    """Receiver of ``containers.hooks.after_converge``: remember the deployment's new containers.

    One query when there is nothing new (the usual case on every reconcile tick)."""
    known = MeteredContainer.objects.filter(deployment_id=deployment_id).values("container_id")
    new = Container.objects.filter(deployment_id=deployment_id).exclude(pk__in=known).select_related("deployment")
    remember(new)
