"""Audit records of tenancy changes, handed to whoever keeps the event log.

Tenancy sits below ``containers``, which owns the event log, so it cannot write an Event itself:
``containers`` registers a receiver here in its ``AppConfig.ready()``. Until one is registered
(tenancy alone), records only go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    kind: str
    actor: str
    organization_id: int | None
    message: str
    before: Any = None
    after: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


receivers: list[Callable[[AuditRecord], None]] = []


def register(receiver: Callable[[AuditRecord], None]) -> None:
    if receiver not in receivers:
        receivers.append(receiver)


def audit(
    kind: str, *, actor: str, organization_id: int | None, message: str, before: Any = None, after: Any = None
) -> None:
    """Announce one change (``membership.added``, ``token.revoked``, ``quota.changed``, ``login.failed``...)."""
    item = AuditRecord(kind, actor, organization_id, message, before, after)
    logger.info("%s by %s: %s", kind, actor, message)
    for receiver in receivers:
        receiver(item)
