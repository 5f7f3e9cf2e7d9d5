"""Rolling updates: revisions, readiness and the progress of a rollout.

A change of a deployment's container template (image, limits, port, command, env, restart policy,
capabilities) makes a new generation; its template is kept as a :class:`Revision` (the last
``REVISION_HISTORY``). The reconciler then replaces the old containers step by step
(``reconcile.plan`` with the deployment's strategy): never more than ``replicas + max_surge``
containers, never fewer than ``replicas - max_unavailable`` ready ones. A new container counts once
it is *ready* (:func:`ready`) and stayed so ``min_ready_seconds``; only then does an old one leave,
drained by the load balancer first (``hooks.before_container_stop``) and stopped with SIGTERM and
``stop_grace_s`` before SIGKILL.

:func:`progress` runs at the end of every converge step: it marks a rollout complete, or failed
when its new containers crash-loop or it misses ``progress_deadline_s``; with ``auto_rollback`` a
failed rollout goes back (:func:`revert`) to the last revision that once completed. Every step is
an Event.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from containers import hooks
from containers.models import Container, Deployment, Image, Revision, record

ACTOR = "reconciler"
# Fields a user sets whose change means the running containers must be recreated (a new revision).
SPEC_FIELDS = (
    "image",
    "cpu_limit",
    "memory_limit_bytes",
    "container_port",
    "command",
    "env",
    "restart_policy",
    "capabilities",
    "read_only_root",
)
# The container template: what a revision keeps and a rollback restores — the spec plus what the
# orchestrator pinned or an admin granted for it.
TEMPLATE_FIELDS = (*SPEC_FIELDS, "image_docker_id", "capabilities_approved")
ROLLING = (Deployment.RolloutPhase.PROGRESSING, Deployment.RolloutPhase.ROLLING_BACK)
READY_PROBE_HOST = "127.0.0.1"


def template(deployment: Deployment) -> dict[str, Any]:
    """The deployment's container template as a revision stores it (JSON; the env included, encrypted)."""
    return {
        "image": deployment.image.reference,
        "image_docker_id": deployment.image_docker_id,
        # "0.05" however it was typed or read back ("0.050"), so equal templates compare equal.
        "cpu_limit": format(Decimal(str(deployment.cpu_limit)).normalize(), "f"),
        "memory_limit_bytes": deployment.memory_limit_bytes,
        "container_port": deployment.container_port,
        "command": list(deployment.command),
        "env": dict(deployment.env),
        "restart_policy": deployment.restart_policy,
        "capabilities": list(deployment.capabilities),
        "capabilities_approved": list(deployment.capabilities_approved),
        "read_only_root": deployment.read_only_root,
    }


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The template fields that differ (the env compared whole, shown only as ``env``)."""
    return [key for key in TEMPLATE_FIELDS if key != "image_docker_id" and before.get(key) != after.get(key)]


def summary(revision: Revision) -> dict[str, Any]:
    """A revision as the API and console show it: never the env's values."""
    shown = {key: value for key, value in revision.template.items() if key != "env"}
    shown["env_keys"] = sorted(revision.template.get("env") or {})
    return shown


def record_revision(deployment: Deployment, *, actor: str, reason: str, previous: dict[str, Any] | None) -> Revision:
    """Keep the current generation's template as a revision; forget all but the last ``REVISION_HISTORY``."""
    now_template = template(deployment)
    revision, _ = Revision.objects.update_or_create(
        deployment=deployment,
        number=deployment.generation,
        defaults={
            "template": now_template,
            "changed": differences(previous, now_template) if previous is not None else [],
            "reason": reason[:255],
            "actor": actor,
            "created_at": timezone.now(),
            "completed_at": None,
        },
    )
    keep = list(
        Revision.objects.filter(deployment=deployment)
        .order_by("-number")
        .values_list("pk", flat=True)[: settings.REVISION_HISTORY]
    )
    Revision.objects.filter(deployment=deployment).exclude(pk__in=keep).delete()
    return revision


def current_revision(deployment: Deployment) -> Revision:
    """The revision of the deployment's generation, made from its template if it has none yet
    (a deployment from before revisions existed)."""
    revision = Revision.objects.filter(deployment=deployment, number=deployment.generation).first()
    if revision is None:
        revision = record_revision(deployment, actor=ACTOR, reason="current template", previous=None)
    return revision


def begin(
    deployment: Deployment,
    *,
    actor: str,
    reason: str,
    previous: dict[str, Any] | None,
    phase: str = Deployment.RolloutPhase.PROGRESSING,
) -> None:
    """A new generation was just saved: keep its revision and start its rollout (call in the transaction)."""
    revision = record_revision(deployment, actor=actor, reason=reason, previous=previous)
    deployment.rollout_phase = phase
    deployment.rollout_started_at = timezone.now()
    deployment.rollout_message = reason
    Deployment.objects.filter(pk=deployment.pk).update(
        rollout_phase=phase, rollout_started_at=deployment.rollout_started_at, rollout_message=reason
    )
    record(
        "rollout.started",
        actor=actor,
        deployment=deployment,
        message=f"{deployment.name}: rollout of revision {deployment.generation} started ({reason})",
        after={"revision": deployment.generation, "changed": revision.changed, "phase": phase},
    )


def image_pinned(deployment: Deployment) -> None:
    """The generation's image id was pinned: its revision keeps the id, so a rollback runs the same bits."""
    revision = Revision.objects.filter(deployment=deployment, number=deployment.generation).first()
    if revision is not None and revision.template.get("image_docker_id") != deployment.image_docker_id:
        revision.template = {**revision.template, "image_docker_id": deployment.image_docker_id}
        revision.save(update_fields=["template"])


class UnknownRevision(LookupError):
    """No such revision of that deployment is kept (or its image is gone)."""


def rollback_target(deployment: Deployment, number: int | None, *, good_only: bool = False) -> Revision:
    """The revision a rollback returns to: ``number``, else the newest before the current one
    (with ``good_only``, the newest that once completed)."""
    older = Revision.objects.filter(deployment=deployment, number__lt=deployment.generation).order_by("-number")
    if number is not None:
        found = Revision.objects.filter(deployment=deployment, number=number).first()
        if found is None:
            raise UnknownRevision(f"{deployment.name} has no revision {number}")
        return found
    if good_only:
        older = older.filter(completed_at__isnull=False)
    found = older.first()
    if found is None:
        raise UnknownRevision(f"{deployment.name} has no earlier revision" + (" that completed" if good_only else ""))
    return found


def revert(deployment: Deployment, target: Revision, *, actor: str, reason: str) -> Deployment:
    """Make ``target``'s template the deployment's again, as a new generation rolled out the same rolling way.

    The template's pinned image id comes back too, so the containers run exactly what that revision ran.
    """
    image = Image.objects.filter(reference=target.template.get("image")).first()
    if image is None:
        raise UnknownRevision(f"revision {target.number}'s image {target.template.get('image')!r} is gone")
    previous = template(deployment)
    before = deployment.spec()
    with transaction.atomic():
        deployment.image = image
        for key in TEMPLATE_FIELDS:
            if key != "image" and key in target.template:
                setattr(deployment, key, target.template[key])
        deployment.cpu_limit = Decimal(str(deployment.cpu_limit))
        deployment.generation += 1
        deployment.crash_count = 0
        deployment.backoff_until = None
        if deployment.replicas:
            deployment.state = Deployment.State.CONVERGING
        deployment.save()
        begin(
            deployment,
            actor=actor,
            reason=reason,
            previous=previous,
            phase=Deployment.RolloutPhase.ROLLING_BACK,
        )
        record(
            "deployment.rolled_back",
            actor=actor,
            deployment=deployment,
            before=before,
            after={**deployment.spec(), "to_revision": target.number},
            message=f"{deployment.name} rolls back to revision {target.number} as revision {deployment.generation}",
        )
    return deployment


def same_template(deployment: Deployment, generations: set[int]) -> set[int]:
    """Which of ``generations`` ran exactly the current template (a rollback's target): their containers
    are the current revision's already, so a rollback keeps them instead of replacing them."""
    if not generations:
        return set()
    now_template = template(deployment)
    return {
        revision.number
        for revision in Revision.objects.filter(deployment=deployment, number__in=generations)
        if revision.template == now_template
    }


# --- readiness --------------------------------------------------------------------------


def answers(port: int, timeout_s: float = 0.3, settle_s: float = 0.1) -> bool:
    """Whether something serves on 127.0.0.1:``port``: the connection opens and is not closed at once.

    A bare connect is not enough: Docker's userland proxy accepts on the published port whatever the
    container does, then closes the connection when nothing listens inside. A server either waits for
    the request (the read times out) or greets (data): both count as ready.
    """
    try:
        with socket.create_connection((READY_PROBE_HOST, port), timeout=timeout_s) as conn:
            # The proxy closes within milliseconds of finding nothing behind it: a short wait tells.
            conn.settimeout(settle_s)
            try:
                return conn.recv(1) != b""
            except TimeoutError:
                return True
    except OSError:
        return False


def ready(container: Container, deployment: Deployment) -> bool:
    """Whether a running container is ready to take traffic: a higher floor's readiness check when one has
    an opinion (the health app's readiness probe), else an answer on its published port, else running."""
    if container.status != Container.Status.RUNNING:
        return False
    for receiver in hooks.readiness:
        verdict = receiver(container.pk)
        if verdict is not None:
            return verdict
    if deployment.container_port and settings.READINESS_PORT_CHECK:
        return container.host_port is not None and answers(container.host_port)
    return True


def available(container: Container, deployment: Deployment, now: datetime) -> bool:
    """Ready, and for at least ``min_ready_seconds``."""
    return container.ready_at is not None and now - container.ready_at >= timedelta(
        seconds=deployment.min_ready_seconds
    )


def mark_ready(deployment: Deployment, rows: dict[str, Container], now: datetime) -> None:
    """Check the running containers not ready yet; each that answers is ready from now (evented)."""
    for row in rows.values():
        if row.ready_at is None and row.status == Container.Status.RUNNING and ready(row, deployment):
            set_ready(deployment, row, now)


def set_ready(deployment: Deployment, row: Container, now: datetime) -> bool:
    """``row`` answered its readiness check: ready from ``now``, evented once. A container another check
    marked first, or one no longer running, is left as it is (False)."""
    with transaction.atomic():
        if not Container.objects.filter(pk=row.pk, status=Container.Status.RUNNING, ready_at__isnull=True).update(
            ready_at=now
        ):
            return False
        record(
            "container.ready",
            actor=ACTOR,
            deployment=deployment,
            container_docker_id=row.docker_id,
            message=f"{row.name} is ready (revision {row.generation})",
        )
    row.ready_at = now
    return True


# --- progress ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where a rollout stands: the console's progress bar and the API's ``rollout``."""

    phase: str
    revision: int
    replicas: int
    updated: int  # containers of the current revision
    ready: int  # of those, available
    old: int  # containers of older revisions still there
    paused: bool
    message: str
    started_at: datetime | None

    @property
    def phase_label(self) -> str:
        return self.phase.replace("_", " ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "revision": self.revision,
            "replicas": self.replicas,
            "updated": self.updated,
            "ready": self.ready,
            "old": self.old,
            "paused": self.paused,
            "message": self.message,
            "started_at": self.started_at.isoformat() if self.started_at else None,
        }


def status(deployment: Deployment, containers: list[Container] | None = None) -> Progress:
    """The deployment's rollout as it stands (from its rows)."""
    rows = containers if containers is not None else list(deployment.containers.all())
    now = timezone.now()
    current = [r for r in rows if r.generation == deployment.generation and r.status != Container.Status.REMOVING]
    return Progress(
        phase=deployment.rollout_phase,
        revision=deployment.generation,
        replicas=deployment.replicas,
        updated=len(current),
        ready=sum(1 for r in current if r.status == Container.Status.RUNNING and available(r, deployment, now)),
        old=sum(1 for r in rows if r.generation != deployment.generation),
        paused=deployment.paused,
        message=deployment.rollout_message,
        started_at=deployment.rollout_started_at,
    )


def rolling(deployment: Deployment) -> bool:
    """Whether a rollout is under way and may take steps (not paused, not failed)."""
    return deployment.rollout_phase in ROLLING and not deployment.paused


def waiting_for_ready(deployment: Deployment) -> bool:
    """Whether a running container of the current generation has not answered its readiness check yet."""
    return Container.objects.filter(
        deployment=deployment,
        generation=deployment.generation,
        status=Container.Status.RUNNING,
        ready_at__isnull=True,
    ).exists()


def frozen(deployment: Deployment) -> bool:
    """Paused, or failed without a rollback: keep what runs, start no more of the new revision."""
    return deployment.paused or deployment.rollout_phase == Deployment.RolloutPhase.FAILED


def progress(deployment: Deployment, rows: dict[str, Container], now: datetime) -> None:
    """After a converge step: complete the rollout, or fail it (and roll back) when it cannot succeed."""
    current = [r for r in rows.values() if r.generation == deployment.generation]
    old = [r for r in rows.values() if r.generation != deployment.generation]
    done = (
        not old
        and len(current) == deployment.replicas
        and all(r.status == Container.Status.RUNNING and available(r, deployment, now) for r in current)
    )
    if deployment.rollout_phase not in ROLLING:
        if done and deployment.replicas:
            # A first revision (or one reached by scaling up) becomes good the same way: every replica ready.
            Revision.objects.filter(
                deployment=deployment, number=deployment.generation, completed_at__isnull=True
            ).update(completed_at=now)
        return
    if done:
        _complete(deployment, now)
        return
    if deployment.paused:
        return
    why = ""
    if deployment.crash_count >= settings.ROLLOUT_MAX_CRASHES:
        why = f"its containers crashed {deployment.crash_count} times in a row"
    elif deployment.rollout_started_at and now - deployment.rollout_started_at > timedelta(
        seconds=deployment.progress_deadline_s
    ):
        ready_count = sum(1 for r in current if available(r, deployment, now))
        why = f"{ready_count} of {deployment.replicas} ready after the {deployment.progress_deadline_s}s deadline"
    if why:
        fail(deployment, why)


def _complete(deployment: Deployment, now: datetime) -> None:
    phase = (
        Deployment.RolloutPhase.ROLLED_BACK
        if deployment.rollout_phase == Deployment.RolloutPhase.ROLLING_BACK
        else Deployment.RolloutPhase.COMPLETE
    )
    message = f"revision {deployment.generation}: {deployment.replicas} of {deployment.replicas} ready"
    deployment.rollout_phase, deployment.rollout_message = phase, message
    Deployment.objects.filter(pk=deployment.pk).update(rollout_phase=phase, rollout_message=message)
    Revision.objects.filter(deployment=deployment, number=deployment.generation).update(completed_at=now)
    record(
        f"rollout.{phase}",
        actor=ACTOR,
        deployment=deployment,
        message=f"{deployment.name}: {message}" + (" (rolled back)" if phase != "complete" else ""),
        after={"revision": deployment.generation, "phase": phase},
    )


def fail(deployment: Deployment, why: str) -> None:
    """The rollout cannot succeed: evented; with ``auto_rollback``, back to the last good revision."""
    rolling_back = deployment.rollout_phase == Deployment.RolloutPhase.ROLLING_BACK
    message = f"revision {deployment.generation} failed: {why}"
    deployment.rollout_phase, deployment.rollout_message = Deployment.RolloutPhase.FAILED, message
    Deployment.objects.filter(pk=deployment.pk).update(rollout_phase=deployment.rollout_phase, rollout_message=message)
    record(
        "rollout.failed",
        actor=ACTOR,
        deployment=deployment,
        message=f"{deployment.name}: {message}",
        after={"revision": deployment.generation, "phase": "failed"},
    )
    # A rollback that fails too stays failed: going back and forth would never end.
    if not deployment.auto_rollback or rolling_back:
        return
    try:
        target = rollback_target(deployment, None, good_only=True)
    except UnknownRevision as exc:
        deployment.rollout_message = f"{message}; no rollback: {exc}"
        Deployment.objects.filter(pk=deployment.pk).update(rollout_message=deployment.rollout_message)
        return
    failed = deployment.generation
    revert(deployment, target, actor=ACTOR, reason=f"automatic rollback: revision {failed} failed ({why})")
