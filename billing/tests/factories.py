"""Rows for billing's database tests: deployments and containers without the engine, readings, plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from billing.models import Plan
from containers.models import Container, Deployment, Image
from health.models import Snapshot

H0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # an hour in a closed month


def deployment(name: str = "web", *, cpu: str = "0.5", memory: int = 256 * 1024**2, **extra: Any) -> Deployment:
    image, _ = Image.objects.get_or_create(reference="billing-test:latest")
    return Deployment.objects.create(
        name=name, image=image, replicas=1, cpu_limit=Decimal(cpu), memory_limit_bytes=memory, **extra
    )


def container(deployment: Deployment, n: int = 1, *, started_at: datetime = H0) -> Container:
    return Container.objects.create(
        deployment=deployment,
        docker_id=f"{deployment.name}-{n}".ljust(64, "0"),
        name=f"{deployment.name}-{n}",
        status="running",
        started_at=started_at,
    )


def readings(
    row: Container, start: datetime, seconds: int, *, every: int = 5, cpu_per_s: int = 500_000_000, base: int = 0
) -> int:
    """Snapshots every ``every`` s for ``seconds`` s from ``start``, burning ``cpu_per_s`` ns a second.

    Returns the counter at the last snapshot."""
    rows = []
    counter = base
    for t in range(0, seconds + 1, every):
        counter = base + t * cpu_per_s
        rows.append(
            Snapshot(
                container_id=row.pk,
                deployment_id=row.deployment_id,
                taken_at=start + timedelta(seconds=t),
                running=True,
                health_class="healthy",
                cpu_usage_ns=counter,
                memory_bytes=100 * 1024**2,
                net_tx_bytes=t * 1000,
            )
        )
    Snapshot.objects.bulk_create(rows)
    return counter


def plan(name: str = "Standard", currency: str = "EUR", **prices: Any) -> Plan:
    values = {
        f"price_{k}" if not k.startswith(("price_", "included_", "quota_")) else k: (
            v if k.startswith("quota_") else Decimal(str(v))
        )
        for k, v in prices.items()
    }
    return Plan.objects.create(name=name, currency=currency, **values)
