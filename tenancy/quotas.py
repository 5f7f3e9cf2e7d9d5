"""Quotas per organization: what each limit is, whether a change would pass one, and the lock
that makes the check and the change one step.

``problems`` is pure (unit-tested without a database). The floors above compute usage (they own
deployments and images) and call ``enforce`` inside their transaction, right after ``lock``:
the ``SELECT ... FOR UPDATE`` on the organization's row makes two concurrent starts queue, so
the second sees the first's reservation and the two cannot together pass a quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from tenancy.access import Access
from tenancy.audit import audit
from tenancy.errors import Forbidden, Invalid, QuotaExceeded
from tenancy.models import Organization

# (quota name used in answers, Organization field, how to show an amount)
QUOTAS: tuple[tuple[str, str, str], ...] = (
    ("cpu", "quota_cpu", "cores"),
    ("memory", "quota_memory_bytes", "bytes"),
    ("containers", "quota_containers", "count"),
    ("deployments", "quota_deployments", "count"),
    ("image_disk", "quota_image_bytes", "bytes"),
)


@dataclass(frozen=True)
class Usage:
    """What an organization reserves: desired replicas' CPU and memory, containers, deployments, images' bytes."""

    cpu: Decimal = Decimal(0)
    memory: int = 0
    containers: int = 0
    deployments: int = 0
    image_disk: int = 0


# The floor that owns what quotas count (containers) registers how to read an organization's usage:
# a function returning one row per quota ({"name", "used", "limit", "percent"}) for the quotas page.
usage_readers: list[Any] = []


def usage_rows(organization: Organization) -> list[dict[str, Any]]:
    if usage_readers:
        return list(usage_readers[0](organization))
    return [
        {"name": name, "used": "?", "limit": show(limit, unit) if limit is not None else "no limit", "percent": None}
        for (name, _, unit), limit in zip(QUOTAS, limits(organization).values(), strict=True)
    ]


def show(amount: Any, unit: str) -> str:
    if unit == "bytes":
        return f"{int(amount) / 1024**2:.0f} MiB"
    if unit == "cores":
        return f"{Decimal(amount).normalize():f} cores"
    return str(amount)


def limits(organization: Organization) -> dict[str, Any]:
    return {name: getattr(organization, attr) for name, attr, _ in QUOTAS}


def problems(limits: dict[str, Any], after: Usage, before: Usage | None = None) -> list[QuotaExceeded]:
    """Every quota ``after`` passes, skipping those it does not raise above ``before`` (a scale-down
    of an organization already over a lowered quota is never refused)."""
    found = []
    for name, _, unit in QUOTAS:
        limit = limits.get(name)
        value = getattr(after, name)
        if limit is None or value <= limit:
            continue
        if before is not None and value <= getattr(before, name):
            continue
        found.append(QuotaExceeded(name, show(limit, unit), show(value, unit)))
    return found


def lock(organization_id: int) -> Organization:
    """The organization's row, locked until the current transaction ends (call inside one)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quotas.lock() must run inside transaction.atomic()")
    return Organization.objects.select_for_update().get(pk=organization_id)


def enforce(organization: Organization, after: Usage, before: Usage | None = None) -> None:
    """Raise the first :class:`QuotaExceeded`, if any."""
    found = problems(limits(organization), after, before)
    if found:
        raise found[0]


def set_quotas(organization: Organization, values: dict[str, Any], *, access: Access) -> Organization:
    """Staff change an organization's quotas (``None`` means no limit); audited with before and after."""
    if not access.staff:
        raise Forbidden("only staff may change quotas")
    fields = {name: attr for name, attr, _ in QUOTAS}
    unknown = set(values) - set(fields)
    if unknown:
        raise Invalid(f"unknown quota {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        organization = lock(organization.pk)
        before = {name: _plain(value) for name, value in limits(organization).items()}
        for name, value in values.items():
            if value is not None and Decimal(value) < 0:
                raise Invalid(f"{name} can't be negative", field=name)
            setattr(organization, fields[name], value)
        organization.save(update_fields=[fields[name] for name in values])
        after = {name: _plain(value) for name, value in limits(organization).items()}
        audit(
            "quota.changed",
            actor=access.username,
            organization_id=organization.pk,
            message=f"quotas of {organization} changed",
            before=before,
            after=after,
        )
    return organization


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
