"""Changes to desired state: one function per action, called by the console, the API and the seed paths.

Each action validates, checks admission, changes the row, writes an Event and queues a
reconcile once the transaction commits. Refusals are recorded as events too.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from containers import engine, hooks, quotas, reconcile, rollouts, strategy
from containers.limits import replicas_problem
from containers.locks import deletion_intent, deployment_lock
from containers.models import Container, Deployment, Image, record
from containers.refusals import AdmissionRefused, Forbidden, InvalidInput, NotFound, Refused, refuse
from tenancy.models import Organization, default_organization


@dataclass(frozen=True)
class Reservation:
    cpu: Decimal
    memory_bytes: int


def admission_caps(host: engine.HostInfo) -> Reservation:
    """How much CPU and memory the deployments may reserve on ``host``: its CPUs and memory times the
    admission factors. The one place the caps are computed (admission here, ``GET /system/resources``)."""
    return Reservation(
        cpu=Decimal(str(host.cpus * settings.ADMISSION_CPU_FACTOR)),
        memory_bytes=int(host.memory_bytes * settings.ADMISSION_MEMORY_FACTOR),
    )


# Every container drops all capabilities; a deployment may ask back only these (a web server binding a
# port below 1024, or one that starts as root and switches to its own user), and an admin approves.
ALLOWED_CAPABILITIES = ("NET_BIND_SERVICE", "CHOWN", "SETUID", "SETGID")
_NAME_SAFE = re.compile(r"[^a-z0-9-]+")


def queue_converge(deployment_id: int) -> None:
    """Reconcile soon, after the current transaction commits."""
    from containers.tasks import converge_deployment

    transaction.on_commit(partial(converge_deployment.delay, deployment_id))


def name_for_image(reference: str) -> str:
    """The default deployment name for an image started through the seed path: ``team/web:1.2`` -> ``team-web-1-2``."""
    return _NAME_SAFE.sub("-", reference.lower()).strip("-")[:63] or "deployment"


def reserved(exclude: Deployment | None = None) -> Reservation:
    """CPU and memory reserved by every deployment's desired replicas."""
    qs = Deployment.objects.all()
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    totals = qs.aggregate(cpu=Sum(F("cpu_limit") * F("replicas")), memory=Sum(F("memory_limit_bytes") * F("replicas")))
    return Reservation(cpu=Decimal(totals["cpu"] or 0), memory_bytes=int(totals["memory"] or 0))


def check_admission(deployment: Deployment, *, actor: str) -> None:
    """Refuse (409) a desired state whose reservations would exceed what the host offers.

    The answer names each limit that does not fit (``cpu_limit``, ``memory_limit``) and ``replicas``.
    """
    problems = admission_problems(deployment)
    if problems:
        message = "not enough host resources: " + "; ".join(problems.values())
        fields = {key: [problem] for key, problem in problems.items()}
        fields["replicas"] = [f"{deployment.replicas} replica(s) do not fit on this host"]
        refuse(
            message,
            actor=actor,
            deployment=deployment if deployment.pk else None,
            fields=fields,
            exc=AdmissionRefused,
        )


def admission_problem(deployment: Deployment) -> str:
    """Why admission would refuse this desired state ("" if it fits); records nothing, so a preview can ask."""
    problems = admission_problems(deployment)
    return "not enough host resources: " + "; ".join(problems.values()) if problems else ""


def admission_problems(deployment: Deployment) -> dict[str, str]:
    """Each limit that would not fit (``cpu_limit``, ``memory_limit``) and why; empty if it fits."""
    host = engine.host_info()
    others = reserved(exclude=deployment)
    want_cpu = others.cpu + deployment.cpu_limit * deployment.replicas
    want_memory = others.memory_bytes + deployment.memory_limit_bytes * deployment.replicas
    caps = admission_caps(host)
    cpu_cap, memory_cap = caps.cpu, caps.memory_bytes
    problems = {}
    if want_cpu > cpu_cap:
        problems["cpu_limit"] = f"CPU: {cores(want_cpu)} cores would be reserved, the host allows {cores(cpu_cap)}"
    if want_memory > memory_cap:
        problems["memory_limit"] = (
            f"memory: {mebibytes(want_memory)} would be reserved, the host allows {mebibytes(memory_cap)}"
        )
    return problems


def replicas_refusal(replicas: int) -> str:
    """Why an action would refuse this number of replicas ("" if it would not)."""
    return f"replicas must be between 0 and {settings.MAX_REPLICAS}" if replicas_problem(replicas) else ""


def cores(value: Decimal | float) -> str:
    """CPU cores as a person reads them: ``64.6``, ``2``, ``0.05`` (at most two decimals)."""
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def mebibytes(value: int) -> str:
    """Memory as a person reads it: ``512 MiB``, ``23.5 GiB``."""
    if value >= 10 * 1024**3:
        return f"{value / 1024**3:.0f} GiB"
    if value >= 1024**3:
        return f"{value / 1024**3:.1f} GiB"
    return f"{value / 1024**2:.0f} MiB"


def check_replicas(replicas: int, *, actor: str, deployment: Deployment | None = None) -> None:
    problem = replicas_refusal(replicas)
    if problem:
        refuse(problem, actor=actor, deployment=deployment, field="replicas", exc=Refused)


def check_strategy(deployment: Deployment, changes: dict[str, Any], *, actor: str) -> None:
    """Strategy values in their bounds, and a rollout that can move (400 naming the field); nothing changed."""
    if problems := strategy.out_of_bounds(changes):
        field, problem = next(iter(problems.items()))
        refuse(
            f"{field} {problem}",
            actor=actor,
            deployment=deployment,
            field=field,
            fields={name: [text] for name, text in problems.items()},
            exc=InvalidInput,
        )
    surge = changes.get("max_surge", deployment.max_surge)
    unavailable = changes.get("max_unavailable", deployment.max_unavailable)
    if stalled := strategy.stall_field(changes, surge, unavailable):
        refuse(strategy.STALLED, actor=actor, deployment=deployment, field=stalled, exc=InvalidInput)


def check_image(deployment: Deployment, *, actor: str) -> None:
    """An organization deploys its own images and the shared ones; another's is as unknown as a missing one."""
    owner = deployment.image.organization_id
    if owner is not None and owner != deployment.organization_id:
        refuse(
            f"unknown image {deployment.image.reference!r}",
            actor=actor,
            field="image",
            exc=NotFound,
            organization_id=deployment.organization_id,
        )


def create_deployment(
    *, actor: str, organization: Organization | None = None, converge_later: bool = True, **values: Any
) -> Deployment:
    """Create a deployment from validated values (name, image, replicas, limits, port, command, env, policy)
    in ``organization`` (the default organization when none is named: internal callers and tests).

    ``converge_later=False`` is for a caller that converges it itself (the seed's start).
    """
    values.pop("organization_id", None)
    deployment = Deployment(organization=organization or default_organization(), **values)
    check_replicas(deployment.replicas, actor=actor)
    check_image(deployment, actor=actor)
    if Deployment.objects.filter(organization=deployment.organization, name=deployment.name).exists():
        refuse(
            f"a deployment named {deployment.name!r} already exists",
            actor=actor,
            field="name",
            organization_id=deployment.organization_id,
        )
    check_admission(deployment, actor=actor)
    with quotas.guarded(deployment, actor=actor):
        _insert(deployment, actor=actor)
        if converge_later:
            queue_converge(deployment.pk)
    return deployment


def _insert(deployment: Deployment, *, actor: str) -> None:
    """Save a new deployment and its event; IntegrityError if its name was taken meanwhile."""
    deployment.state = Deployment.State.CONVERGING if deployment.replicas else Deployment.State.STOPPED
    deployment.save()
    rollouts.record_revision(deployment, actor=actor, reason="created", previous=None)
    record(
        "deployment.created",
        actor=actor,
        deployment=deployment,
        after=deployment.spec(),
        message=f"{deployment.name} created with {deployment.replicas} replica(s) of {deployment.image}",
    )


def changed_spec_fields(deployment: Deployment, changes: dict[str, Any]) -> list[str]:
    """The container-spec fields ``changes`` would change: any of them means a new generation."""
    return [key for key in rollouts.SPEC_FIELDS if key in changes and getattr(deployment, key) != changes[key]]


def update_deployment(deployment: Deployment, *, actor: str, converge_later: bool = True, **changes: Any) -> Deployment:
    """Change desired state; a change to the container spec rolls every container to a new generation.

    ``converge_later=False`` is for a caller that converges it itself (the seed's start).
    """
    # Nobody moves a deployment to another organization by naming one in a body.
    changes.pop("organization", None)
    changes.pop("organization_id", None)
    if any(name in changes for name in strategy.FIELDS):
        check_strategy(deployment, changes, actor=actor)
    before = deployment.spec()
    respec = bool(changed_spec_fields(deployment, changes))
    previous = rollouts.template(deployment)
    if respec:
        rollouts.current_revision(deployment)  # history for a deployment from before revisions
    for key, value in changes.items():
        setattr(deployment, key, value)
    check_replicas(deployment.replicas, actor=actor, deployment=deployment)
    check_image(deployment, actor=actor)
    check_admission(deployment, actor=actor)
    with quotas.guarded(deployment, actor=actor):
        if respec:
            deployment.generation += 1
            deployment.image_docker_id = ""  # the new generation pins the image's id of its first start
        deployment.crash_count = 0
        deployment.backoff_until = None
        if deployment.replicas:
            deployment.state = Deployment.State.CONVERGING
        # Only what changed: a full save of this (possibly stale) instance could undo the image id the
        # reconciler pinned for the current generation meanwhile.
        fields = {*changes, "crash_count", "backoff_until", "state", "updated_at"}
        if respec:
            fields |= {"generation", "image_docker_id"}
        deployment.save(update_fields=sorted(fields))
        record(
            "deployment.updated",
            actor=actor,
            deployment=deployment,
            before=before,
            after=deployment.spec(),
            message=f"{deployment.name} updated" + (" (containers will be recreated)" if respec else ""),
        )
        if respec:
            changed = ", ".join(rollouts.differences(previous, rollouts.template(deployment))) or "spec"
            rollouts.begin(deployment, actor=actor, reason=f"{changed} changed", previous=previous)
        if converge_later:
            queue_converge(deployment.pk)
    return deployment


def scale(deployment: Deployment, replicas: int, *, actor: str) -> Deployment:
    """Set the number of replicas."""
    check_replicas(replicas, actor=actor, deployment=deployment)
    before = deployment.replicas
    deployment.replicas = replicas
    if replicas > before:
        check_admission(deployment, actor=actor)
    with quotas.guarded(deployment, actor=actor):
        deployment.state = Deployment.State.CONVERGING
        deployment.save(update_fields=["replicas", "state", "updated_at"])
        record(
            "deployment.scaled",
            actor=actor,
            deployment=deployment,
            before={"replicas": before},
            after={"replicas": replicas},
            message=f"{deployment.name} scaled from {before} to {replicas}",
        )
        queue_converge(deployment.pk)
    return deployment


def stop(deployment: Deployment, *, actor: str, converge_later: bool = True) -> Deployment:
    """Stop every container of the deployment; it stays, with zero replicas, to be scaled up again.

    ``converge_later=False`` is for a caller that converges it itself (the seed's stop).
    """
    before = deployment.replicas
    with transaction.atomic():
        deployment.replicas = 0
        deployment.save(update_fields=["replicas", "updated_at"])
        record(
            "deployment.stopped",
            actor=actor,
            deployment=deployment,
            before={"replicas": before},
            after={"replicas": 0},
            message=f"{deployment.name} stopped",
        )
        if converge_later:
            queue_converge(deployment.pk)
    return deployment


def delete_deployment(deployment: Deployment, *, actor: str) -> None:
    """Remove the deployment's containers and network, then the deployment; if the engine is down
    nothing changes. A converge holding the deployment's lock through a rollout lets go at its next
    step when it sees the deletion coming (locks.deletion_intent)."""
    with deletion_intent(deployment.pk), deployment_lock(deployment.pk):
        observed = engine.list_containers(engine.deployment_labels(deployment.pk))
        reconcile.mark_removing([info.id for info in observed])
        for info in observed:
            engine.remove_container(info.id)
        try:
            engine.remove_network(deployment.network_name())
        except engine.EngineUnavailable:
            raise
        except engine.EngineError:
            pass  # still busy (a container on its way out): the orphan sweep removes it later
        with transaction.atomic():
            record("deployment.deleted", actor=actor, before=deployment.spec(), message=f"{deployment.name} deleted")
            deployment.delete()


def approve_capabilities(deployment: Deployment, *, actor: str, user: Any) -> Deployment:
    """An admin grants the capabilities the deployment asks for; its containers are recreated with them.

    Refused (403) for anyone but staff, and refused (409) when nothing is asked for.
    """
    if not getattr(user, "is_staff", False):
        refuse("only an administrator may approve capabilities", actor=actor, field="capabilities", exc=Forbidden)
    asked = sorted(set(deployment.capabilities))
    if not asked:
        refuse(f"{deployment.name} asks for no capabilities", actor=actor, field="capabilities")
    return _new_generation(
        deployment,
        "deployment.capabilities_approved",
        {"capabilities_approved": asked},
        actor=actor,
        message=f"{actor} approved {', '.join(asked)} for {deployment.name} (containers will be recreated)",
    )


def rollout(deployment: Deployment, *, actor: str) -> Deployment:
    """Recreate the containers on the image their tag names now (a new generation pins the new id)."""
    return _new_generation(
        deployment,
        "deployment.rolled_out",
        {"crash_count": 0, "backoff_until": None},
        actor=actor,
        message=f"{deployment.name} rolled out to the current {deployment.image}",
    )


def _new_generation(
    deployment: Deployment, kind: str, changes: dict[str, Any], *, actor: str, message: str
) -> Deployment:
    """Save ``changes`` as a new generation (containers recreated, the image id pinned anew), evented."""
    before = deployment.spec()
    previous = rollouts.template(deployment)
    rollouts.current_revision(deployment)
    for key, value in changes.items():
        setattr(deployment, key, value)
    # A rollout reserves what the deployment already does: refused only when over a lowered quota
    # and growing, which it is not; the check still runs under the organization's lock.
    with quotas.guarded(deployment, actor=actor):
        deployment.generation += 1
        deployment.image_docker_id = ""
        if deployment.replicas:
            deployment.state = Deployment.State.CONVERGING
        deployment.save()
        record(kind, actor=actor, deployment=deployment, before=before, after=deployment.spec(), message=message)
        rollouts.begin(deployment, actor=actor, reason=message, previous=previous)
        queue_converge(deployment.pk)
    return deployment


def rollback(deployment: Deployment, *, actor: str, revision: int | None = None) -> Deployment:
    """Roll back to ``revision`` (default: the one before the current), through the same rolling path.

    Refused (4xx naming ``revision``) when that revision is not kept, is the current one, or its image is
    gone; admission is checked as for any change of limits.
    """
    if revision is not None and revision == deployment.generation:
        refuse(f"revision {revision} is the current one", actor=actor, deployment=deployment, field="revision")
    try:
        target = rollouts.rollback_target(deployment, revision)
    except rollouts.UnknownRevision as exc:
        refuse(str(exc), actor=actor, deployment=deployment, field="revision", exc=NotFound)
    proposed = Deployment(
        pk=deployment.pk,
        organization_id=deployment.organization_id,
        replicas=deployment.replicas,
        cpu_limit=Decimal(str(target.template.get("cpu_limit", deployment.cpu_limit))),
        memory_limit_bytes=int(target.template.get("memory_limit_bytes", deployment.memory_limit_bytes)),
    )
    check_admission(proposed, actor=actor)
    with deployment_lock(deployment.pk):
        current = Deployment.objects.select_related("image").get(pk=deployment.pk)
        try:
            # The revision's limits may reserve more: checked against the organization's quotas, locked.
            with quotas.guarded(proposed, actor=actor):
                rollouts.revert(current, target, actor=actor, reason=f"rollback to revision {target.number} by {actor}")
        except rollouts.UnknownRevision as exc:
            refuse(str(exc), actor=actor, deployment=deployment, field="revision", exc=NotFound)
        queue_converge(current.pk)
    return current


def pause(deployment: Deployment, *, actor: str) -> Deployment:
    """Pause the deployment's rollouts: what runs stays, no further step is taken until :func:`resume`."""
    if deployment.paused:
        refuse(f"{deployment.name} is already paused", actor=actor, deployment=deployment, field="paused")
    return _set_paused(deployment, True, actor=actor)


def resume(deployment: Deployment, *, actor: str) -> Deployment:
    """Resume a paused rollout (its deadline counts from now); a failed one is tried again."""
    if not deployment.paused and deployment.rollout_phase != Deployment.RolloutPhase.FAILED:
        refuse(f"{deployment.name} is not paused", actor=actor, deployment=deployment, field="paused")
    return _set_paused(deployment, False, actor=actor)


def _set_paused(deployment: Deployment, paused: bool, *, actor: str) -> Deployment:
    with transaction.atomic():
        deployment.paused = paused
        fields = ["paused", "updated_at"]
        if not paused:
            deployment.rollout_started_at = timezone.now()
            deployment.crash_count = 0
            deployment.backoff_until = None
            fields += ["rollout_started_at", "crash_count", "backoff_until"]
            if deployment.rollout_phase == Deployment.RolloutPhase.FAILED:
                deployment.rollout_phase = Deployment.RolloutPhase.PROGRESSING
                fields.append("rollout_phase")
        deployment.save(update_fields=fields)
        word = "paused" if paused else "resumed"
        record(
            f"rollout.{word}",
            actor=actor,
            deployment=deployment,
            before={"paused": not paused},
            after={"paused": paused, "revision": deployment.generation, "phase": deployment.rollout_phase},
            message=f"{deployment.name}: rollouts {word} by {actor}",
        )
        queue_converge(deployment.pk)
    return deployment


def remove_container(container: Container, *, actor: str) -> None:
    """Remove one container for good: the deployment keeps one replica fewer.

    Checked again under the deployment's lock: a concurrent removal of the same container, or of
    its whole deployment, got there first, and this one is then a 404, not a half-done change.
    """
    deployment = container.deployment
    with deployment_lock(deployment.pk):
        if not Container.objects.filter(pk=container.pk, deployment_id=deployment.pk).exists():
            raise NotFound(f"container {container.name} is already removed", field="id")
        reconcile.mark_removing([container.docker_id])
        engine.remove_container(container.docker_id)
        with transaction.atomic():
            locked = Deployment.objects.select_for_update().filter(pk=deployment.pk).first()
            if locked is None:
                raise NotFound(f"container {container.name} was removed with its deployment", field="id")
            before = locked.replicas
            Deployment.objects.filter(pk=deployment.pk, replicas__gt=0).update(replicas=F("replicas") - 1)
            deployment.refresh_from_db()
            Container.objects.filter(pk=container.pk).delete()
            record(
                "container.deleted",
                actor=actor,
                deployment=deployment,
                container_docker_id=container.docker_id,
                before={"replicas": before},
                after={"replicas": deployment.replicas},
                message=f"{container.name} removed; {deployment.name} now wants {deployment.replicas}",
            )
            queue_converge(deployment.pk)


def restart_container(
    container: Container,
    *,
    actor: str,
    event: str = "container.restarted",
    message: str = "",
    after: dict[str, Any] | None = None,
) -> None:
    """Restart one container in place (the console, the API, a liveness probe's ``probe.restart``).

    One that is being removed (its row gone, or the engine no longer has it) is a 409.
    """
    if not Container.objects.filter(pk=container.pk).exists():
        raise Refused(f"container {container.name} is being removed", field="id")
    hooks.restarting([container.docker_id])
    # The engine reports the restart's stop as a ``die``: marked, so that it is not taken for a death to replace.
    Container.objects.filter(pk=container.pk).update(status=Container.Status.RESTARTING)
    try:
        engine.restart_container(container.docker_id)
    except engine.ContainerNotFound:
        raise Refused(f"container {container.name} is being removed", field="id") from None
    record(
        event,
        actor=actor,
        deployment=container.deployment,
        container_docker_id=container.docker_id,
        message=message or f"{container.name} restarted",
        after=after,
    )
    # A restart may publish a new host port: the reconciler refreshes the row and the endpoint.
    queue_converge(container.deployment_id)


@dataclass
class Started:
    """What one seed start did: the deployment as it is now, the containers this call started, and
    why any could not start."""

    deployment: Deployment
    containers: list[Container]
    failed: list[str]


def start_image(
    reference: str,
    count: int,
    *,
    cpu_limit: Decimal | None,
    memory_limit_bytes: int | None,
    container_port: int | None,
    actor: str,
    organization: Organization | None = None,
) -> Started:
    """The seed's ``POST /containers/{image}/start``: add ``count`` containers of an image and wait for them.

    They belong to the image's default deployment (named after the image), created on first use.
    Limits given here become the deployment's limits (recreating its containers if they differ).

    Concurrent starts each add exactly their ``count``: the desired state is read, changed and
    converged under the deployment's lock, so each call's converge starts what that call added
    (and what it lists is what it started). Two first starts of one image race to create its
    deployment; the loser, refused by the unique name, adds to the winner's.
    """
    organization = organization or default_organization()
    image = visible_images(organization).filter(reference=reference).first()
    if image is None:
        refuse(
            f"unknown image {reference!r}: upload or pull it first",
            actor=actor,
            field="image",
            exc=NotFound,
            organization_id=organization.pk,
        )
    if count < 1:
        refuse("count must be at least 1", actor=actor, field="count", exc=Refused, organization_id=organization.pk)
    name = name_for_image(reference)
    # Names are per organization: two organizations starting one image get two deployments.
    mine = Deployment.objects.filter(organization=organization, name=name)
    deployment = mine.first()
    if deployment is None:
        new = Deployment(
            organization=organization,
            name=name,
            image=image,
            replicas=count,
            cpu_limit=cpu_limit if cpu_limit is not None else settings.DEFAULT_CPU_LIMIT,
            memory_limit_bytes=memory_limit_bytes or settings.DEFAULT_MEMORY_LIMIT,
            container_port=container_port,
        )
        started = _create_and_converge(new, actor=actor)
        if started is not None:
            return started
        deployment = mine.first()
        if deployment is None:
            refuse(f"{name} was deleted while this start ran", actor=actor, field="image", exc=NotFound)
    with deployment_lock(deployment.pk):
        current = Deployment.objects.select_related("image").filter(pk=deployment.pk).first()
        if current is None:
            refuse(f"{name} was deleted while this start ran", actor=actor, field="image", exc=NotFound)
        has = current.replicas
        if replicas_problem(has + count):
            room = max(0, settings.MAX_REPLICAS - has)
            refuse(
                f"{reference} already has {has} replicas: at most {room} more",
                actor=actor,
                deployment=current,
                field="count",
                exc=InvalidInput,
            )
        changes: dict[str, Any] = {"replicas": has + count}
        if cpu_limit is not None:
            changes["cpu_limit"] = cpu_limit
        if memory_limit_bytes is not None:
            changes["memory_limit_bytes"] = memory_limit_bytes
        if container_port is not None:
            changes["container_port"] = container_port
        update_deployment(current, actor=actor, converge_later=False, **changes)
        outcome = reconcile.converge_held(current.pk) or reconcile.Outcome()
    current.refresh_from_db()
    return Started(current, outcome.created, outcome.failed)


def _create_and_converge(deployment: Deployment, *, actor: str) -> Started | None:
    """Create the seed start's deployment and converge it under its lock, taken before the row is
    visible to anyone else; None when a concurrent start created a deployment of that name first."""
    check_replicas(deployment.replicas, actor=actor)
    check_admission(deployment, actor=actor)
    with ExitStack() as held:
        try:
            with quotas.guarded(deployment, actor=actor):
                _insert(deployment, actor=actor)
                held.enter_context(deployment_lock(deployment.pk))
        except IntegrityError:
            return None
        outcome = reconcile.converge_held(deployment.pk) or reconcile.Outcome()
    deployment.refresh_from_db()
    return Started(deployment, outcome.created, outcome.failed)


@dataclass
class Stopped:
    """What one seed stop did: the image's deployments as they are now, and the containers it removed."""

    deployments: list[Deployment]
    removed: list[str]


def visible_images(organization: Organization) -> Any:
    """The images an organization may deploy: its own and the shared ones."""
    from django.db.models import Q

    return Image.objects.filter(Q(organization=organization) | Q(organization__isnull=True))


def stop_image(reference: str, *, actor: str, organization: Organization | None = None) -> Stopped:
    """The seed's ``POST /containers/{image}/stop``: stop every deployment of the image in the
    organization, and wait."""
    organization = organization or default_organization()
    deployments = list(
        Deployment.objects.filter(organization=organization, image__reference=reference).select_related("image")
    )
    if not deployments and not visible_images(organization).filter(reference=reference).exists():
        refuse(
            f"unknown image {reference!r}", actor=actor, field="image", exc=NotFound, organization_id=organization.pk
        )
    of_image = Container.objects.filter(organization=organization, deployment__image__reference=reference)
    before = list(of_image.order_by("created_at", "pk").values_list("docker_id", flat=True))
    for deployment in deployments:
        stop(deployment, actor=actor, converge_later=False)
        reconcile.converge(deployment.pk)
    # Deleted meanwhile by another request: left out of the answer.
    deployments = list(Deployment.objects.filter(pk__in=[d.pk for d in deployments]).select_related("image"))
    remaining = set(of_image.values_list("docker_id", flat=True))
    return Stopped(deployments, [docker_id for docker_id in before if docker_id not in remaining])
