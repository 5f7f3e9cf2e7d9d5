"""Organization quotas applied to desired state: what an organization reserves, and the check every
start, scale, edit, rollout, upload and pull makes under a lock on the organization's row.

``guarded(deployment, actor)`` is the transaction an action changes a deployment in: it locks the
organization's row first (``SELECT ... FOR UPDATE``), so two concurrent requests queue there and
the second counts the first's reservation; a refusal is recorded after the rollback, so the event
outlives it. Host-level admission (``deployments.check_admission``) is separate and unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from django.db import transaction
from django.db.models import Count, F, Sum

from containers.models import Deployment, Image, record
from containers.refusals import QuotaRefused
from tenancy import quotas
from tenancy.errors import QuotaExceeded
from tenancy.models import Organization


@dataclass(frozen=True)
class Reserved:
    """What an organization's deployments reserve (the part of its usage that is not images)."""

    cpu: Decimal
    memory: int
    containers: int
    deployments: int


def reserved(organization_id: int) -> Reserved:
    totals = Deployment.objects.filter(organization_id=organization_id).aggregate(
        cpu=Sum(F("cpu_limit") * F("replicas")),
        memory=Sum(F("memory_limit_bytes") * F("replicas")),
        containers=Sum("replicas"),
        deployments=Count("pk"),
    )
    return Reserved(
        cpu=Decimal(totals["cpu"] or 0),
        memory=int(totals["memory"] or 0),
        containers=int(totals["containers"] or 0),
        deployments=int(totals["deployments"] or 0),
    )


def usage(organization_id: int, deployments: Reserved | None = None) -> quotas.Usage:
    """What the organization reserves now: two queries whatever its size (one when the caller already
    summed its ``deployments``)."""
    taken = deployments if deployments is not None else reserved(organization_id)
    disk = Image.objects.filter(organization_id=organization_id).aggregate(total=Sum("size_bytes"))["total"]
    return quotas.Usage(
        cpu=taken.cpu,
        memory=taken.memory,
        containers=taken.containers,
        deployments=taken.deployments,
        image_disk=int(disk or 0),
    )


def with_deployment(current: quotas.Usage, old: Deployment | None, new: Deployment | None) -> quotas.Usage:
    """``current`` with ``old``'s reservation replaced by ``new``'s (either may be None)."""
    cpu, memory, containers, count = current.cpu, current.memory, current.containers, current.deployments
    for sign, row in ((-1, old), (1, new)):
        if row is None:
            continue
        cpu += sign * row.cpu_limit * row.replicas
        memory += sign * row.memory_limit_bytes * row.replicas
        containers += sign * row.replicas
        count += sign
    return quotas.Usage(cpu=cpu, memory=memory, containers=containers, deployments=count, image_disk=current.image_disk)


def owner_of(deployment: Deployment) -> int:
    """The deployment's organization id (always set: the column is not nullable)."""
    assert deployment.organization_id is not None
    return deployment.organization_id


def check(deployment: Deployment) -> None:
    """Raise QuotaExceeded if saving ``deployment`` as it is now would pass its organization's quotas.

    Call inside a transaction, after ``quotas.lock``: the old row is read from the database.
    """
    organization_id = owner_of(deployment)
    organization = quotas.lock(organization_id)
    old = Deployment.objects.filter(pk=deployment.pk).first() if deployment.pk else None
    before = usage(organization_id)
    quotas.enforce(organization, with_deployment(before, old, deployment), before)


def check_image_bytes(organization_id: int, extra_bytes: int) -> None:
    """Raise QuotaExceeded if ``extra_bytes`` more of images would pass the images' disk quota (locks the row)."""
    organization = quotas.lock(organization_id)
    before = usage(organization_id)
    after = quotas.Usage(
        cpu=before.cpu,
        memory=before.memory,
        containers=before.containers,
        deployments=before.deployments,
        image_disk=before.image_disk + extra_bytes,
    )
    quotas.enforce(organization, after, before)


@contextmanager
def guarded(deployment: Deployment, *, actor: str) -> Iterator[None]:
    """A transaction in which ``deployment``'s new desired state fits its organization's quotas."""
    try:
        with transaction.atomic():
            check(deployment)
            yield
    except QuotaExceeded as exc:
        refused(exc, actor=actor, organization_id=owner_of(deployment), field=exc.quota)


def refused(exc: QuotaExceeded, *, actor: str, organization_id: int, field: str) -> NoReturn:
    """Record the refusal (after the rollback, so it stays) and raise it as a 409 naming the quota."""
    record(
        "request.refused",
        actor=actor,
        organization_id=organization_id,
        message=exc.message,
        after={"field": field, "quota": exc.quota, "limit": exc.limit, "would_reach": exc.would_reach},
    )
    raise QuotaRefused(exc.message, quota=exc.quota, limit=exc.limit, would_reach=exc.would_reach) from None


def organization_usage(organization: Organization, deployments: Reserved | None = None) -> list[dict[str, Any]]:
    """Each quota used vs allowed, for the dashboard and the quotas page (``deployments``: what its deployments
    reserve, if the caller has just summed them)."""
    current = usage(organization.pk, deployments)
    limits = quotas.limits(organization)
    rows = []
    for name, _, unit in quotas.QUOTAS:
        used, limit = getattr(current, name), limits[name]
        rows.append(
            {
                "name": name,
                "used": quotas.show(used, unit),
                "limit": quotas.show(limit, unit) if limit is not None else "no limit",
                "percent": min(100, round(100 * float(used) / float(limit))) if limit else None,
            }
        )
    return rows
