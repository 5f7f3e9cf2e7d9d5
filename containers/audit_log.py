"""Tenancy's audit records (members, roles, tokens, quotas, failed logins) written as Events."""

from __future__ import annotations

from containers.models import record
from tenancy.audit import AuditRecord


def record_audit(item: AuditRecord) -> None:
    record(
        item.kind,
        actor=item.actor,
        message=item.message,
        before=item.before,
        after=item.after,
        organization_id=item.organization_id,
    )
