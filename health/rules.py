"""Probes, alert rules and autoscalers: one function per action (create, change, delete), each writing an event.

The API's viewsets call these; a later console page will too. What the events keep is the rule's
settings, never where alerts go (a webhook URL may carry a token, addresses are personal).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction

from containers.models import record
from health.models import AlertRule, Autoscaler, Probe

Rule = TypeVar("Rule", Probe, AlertRule, Autoscaler)

# Event kind prefix and the fields an event records, per model.
_KINDS: dict[type[models.Model], tuple[str, tuple[str, ...]]] = {
    Probe: (
        "probe",
        ("kind", "type", "path", "expected_status", "timeout_s", "period_s", "failure_threshold", "enabled"),
    ),
    AlertRule: ("alert_rule", ("name", "event_kinds", "cooldown_s", "enabled")),
    Autoscaler: ("autoscaler", ("enabled", "min_replicas", "max_replicas", "target_cpu_pct", "stabilization_s")),
}


def settings_of(rule: models.Model) -> dict[str, Any]:
    """What an event records as before/after."""
    _, fields = _KINDS[type(rule)]
    return {"id": rule.pk, **{name: getattr(rule, name) for name in fields}}


def _owner(rule: models.Model) -> dict[str, Any]:
    """An alert rule without a deployment: its event belongs to the rule's organization."""
    if getattr(rule, "deployment_id", None) is None and getattr(rule, "organization_id", None) is not None:
        return {"organization_id": rule.organization_id}  # type: ignore[attr-defined]
    return {}


def create_rule(model: type[Rule], *, actor: str, **values: Any) -> Rule:
    """Create a probe, alert rule or autoscaler from validated values."""
    prefix, _ = _KINDS[model]
    with transaction.atomic():
        rule = model.objects.create(**values)
        record(
            f"{prefix}.created",
            actor=actor,
            deployment=rule.deployment,
            after=settings_of(rule),
            message=f"{rule} created",
            **_owner(rule),
        )
    return rule


def update_rule(rule: Rule, *, actor: str, **changes: Any) -> Rule:
    """Change a probe, alert rule or autoscaler."""
    prefix, _ = _KINDS[type(rule)]
    before = settings_of(rule)
    for name, value in changes.items():
        setattr(rule, name, value)
    with transaction.atomic():
        rule.save()
        record(
            f"{prefix}.updated",
            actor=actor,
            deployment=rule.deployment,
            before=before,
            after=settings_of(rule),
            message=f"{rule} updated",
            **_owner(rule),
        )
    return rule


def delete_rule(rule: models.Model, *, actor: str) -> None:
    """Delete a probe, alert rule or autoscaler."""
    prefix, _ = _KINDS[type(rule)]
    with transaction.atomic():
        record(
            f"{prefix}.deleted",
            actor=actor,
            deployment=getattr(rule, "deployment", None),
            before=settings_of(rule),
            message=f"{rule} deleted",
            **_owner(rule),
        )
        rule.delete()
