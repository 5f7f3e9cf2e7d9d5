"""One Docker bridge network per organization: its containers join it instead of the default bridge,
so one customer's containers share no network with another's.

Created on demand (before the first container of the organization starts), labelled with the
managed-by / instance / organization labels, and removed with the organization (``tenancy.hooks``).
Ports are still published on 127.0.0.1 only, so reaching a container is unchanged.
"""

from __future__ import annotations

from django.conf import settings

from containers import engine
from containers.locks import organization_lock


def network_name(organization_id: int) -> str:
    # The instance keeps two orchestrators (or a test run) on one engine apart.
    return f"orch-{settings.ORCHESTRATOR_INSTANCE}-org-{organization_id}"


def network_labels(organization_id: int) -> dict[str, str]:
    return {
        engine.LABEL_MANAGED_BY: engine.MANAGED_BY,
        engine.LABEL_INSTANCE: settings.ORCHESTRATOR_INSTANCE,
        engine.LABEL_ORGANIZATION: str(organization_id),
    }


def ensure(organization_id: int) -> str:
    """The organization's network, created if missing; returns its name."""
    name = network_name(organization_id)
    with organization_lock(organization_id):
        engine.ensure_network(name, network_labels(organization_id))
    return name


def remove(organization_id: int) -> None:
    """Remove the organization's network (its containers must be gone first)."""
    engine.remove_network(network_name(organization_id))
