"""The plan preview: what reconcile would do if a proposed change were applied now.

It observes the engine exactly as ``reconcile.converge`` does (by the deployment's labels,
oldest first), builds the ``Desired`` the change would give — one generation up when a spec
field changes — and asks the same pure ``reconcile.plan``. Nothing is saved, nothing is queued,
no event is written: it also says whether the action would be refused, and why, without
recording the refusal.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from containers import deployments, engine, reconcile
from containers.models import Deployment

# How the preview names a spec field that changes.
FIELD_LABELS = {
    "image": "image",
    "cpu_limit": "CPU limit",
    "memory_limit_bytes": "memory limit",
    "container_port": "container port",
    "command": "command",
    "env": "environment",
    "restart_policy": "restart policy",
}


@dataclass(frozen=True)
class PlannedRemoval:
    name: str
    short_id: str
    generation: int
    reason: str  # "exited", "outdated" (replaced by the new generation), "surplus" (scaled down)


@dataclass(frozen=True)
class Preview:
    """What applying the change would do, for the template."""

    replicas: int
    generation: int  # the generation the containers it creates get
    create: int
    remove: tuple[PlannedRemoval, ...] = ()
    keep: tuple[str, ...] = ()  # names of the containers left as they are
    changed: tuple[str, ...] = ()  # labels of the spec fields that change
    refusal: str = ""  # why the action would be refused ("" if it would be accepted)
    refusal_field: str | None = None
    held: int = 0  # creations a crash-loop backoff holds back ...
    waits_until: datetime | None = None  # ... until then

    @property
    def recreate(self) -> bool:
        """A spec change: every container of the old generation is replaced."""
        return bool(self.changed) and any(r.reason == "outdated" for r in self.remove)

    @property
    def outdated(self) -> list[PlannedRemoval]:
        return [r for r in self.remove if r.reason == "outdated"]

    @property
    def empty(self) -> bool:
        return self.create == 0 and not self.remove


def preview_create(values: dict[str, Any]) -> Preview:
    """A new deployment: nothing on the engine yet, so reconcile creates every replica."""
    proposed = Deployment(**values)
    refusal, refusal_field = "", None
    if Deployment.objects.filter(name=proposed.name).exists():
        refusal, refusal_field = f"a deployment named {proposed.name!r} already exists", "name"
    elif refusal := deployments.admission_problem(proposed):
        refusal_field = "replicas"
    plan = reconcile.plan(reconcile.Desired(proposed.replicas, proposed.generation), [])
    return Preview(proposed.replicas, proposed.generation, plan.create, refusal=refusal, refusal_field=refusal_field)


def preview_update(deployment: Deployment, changes: dict[str, Any]) -> Preview:
    """An edit: a changed spec field moves to a new generation and replaces every current container."""
    changed = deployments.changed_spec_fields(deployment, changes)
    proposed = copy.copy(deployment)  # never the caller's instance: nothing here may leak into a save
    for key, value in changes.items():
        setattr(proposed, key, value)
    if changed:
        proposed.generation += 1
    # update_deployment clears the backoff (creations are not held back) and always checks admission.
    return _against_engine(deployment, proposed, changed, can_create=True, admit=True)


def preview_scale(deployment: Deployment, replicas: int) -> Preview:
    """A scale: same generation; a crash-loop backoff still holds back the creations."""
    proposed = copy.copy(deployment)
    proposed.replicas = replicas
    # deployments.scale checks admission only when scaling up.
    admit = replicas > deployment.replicas
    return _against_engine(deployment, proposed, [], can_create=not deployment.in_backoff(), admit=admit)


def _against_engine(
    current: Deployment, proposed: Deployment, changed: list[str], *, can_create: bool, admit: bool
) -> Preview:
    # Ordered as reconcile.converge plans, so the same surplus is named.
    created = dict(current.containers.values_list("docker_id", "created_at"))
    observed = reconcile.oldest_first(engine.list_containers(engine.deployment_labels(current.pk)), created)
    # Planned as if it could create, to say how many creations a backoff holds back.
    plan = reconcile.plan(
        reconcile.Desired(proposed.replicas, proposed.generation),
        [reconcile.Observed(c.id, c.generation, c.state in reconcile.ALIVE_STATES) for c in observed],
    )
    held = 0 if can_create else plan.create
    by_id = {c.id: c for c in observed}
    removed = {r.container_id for r in plan.remove}
    return Preview(
        replicas=proposed.replicas,
        generation=proposed.generation,
        create=plan.create - held,
        remove=tuple(
            PlannedRemoval(by_id[r.container_id].name, r.container_id[:12], by_id[r.container_id].generation, r.reason)
            for r in plan.remove
        ),
        keep=tuple(c.name for c in observed if c.id not in removed),
        changed=tuple(FIELD_LABELS[key] for key in changed),
        refusal=(refusal := _refusal(proposed, admit)),
        # Both refusals (out of range, no room) come from the replicas asked for.
        refusal_field="replicas" if refusal else None,
        held=held,
        waits_until=current.backoff_until if held else None,
    )


def _refusal(proposed: Deployment, admit: bool) -> str:
    """What the action would refuse with, checked in the action's order, without recording it."""
    return deployments.replicas_refusal(proposed.replicas) or (deployments.admission_problem(proposed) if admit else "")
