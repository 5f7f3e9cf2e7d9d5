"""Changes to desired state: one function per action, called by the console, the API and the seed paths.

Each action validates, checks admission, changes the row, writes an Event and queues a
reconcile once the transaction commits. Refusals are recorded as events too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum

from containers import engine, hooks, quotas, reconcile
from containers.limits import parse_memory
from containers.locks import deployment_lock
from containers.models import Container, Deployment, Image, record
from containers.refusals import AdmissionRefused, Invalid, NotFound, Refused, refuse
from tenancy.models import Organization, default_organization


@dataclass(frozen=True)
class Reservation:
    cpu: Decimal
    memory_bytes: int


# Fields whose change means the running containers must be recreated.
SPEC_FIELDS = ("image", "cpu_limit", "memory_limit_bytes", "container_port", "command", "env", "restart_policy")
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
    """Refuse (409) a desired state whose reservations would exceed what the host offers."""
    problem = admission_problem(deployment)
    if problem:
        refuse(problem, actor=actor, deployment=deployment if deployment.pk else None, exc=AdmissionRefused)


def admission_problem(deployment: Deployment) -> str:
    """Why admission would refuse this desired state ("" if it fits); records nothing, so a preview can ask."""
    host = engine.host_info()
    others = reserved(exclude=deployment)
    want_cpu = others.cpu + deployment.cpu_limit * deployment.replicas
    want_memory = others.memory_bytes + deployment.memory_limit_bytes * deployment.replicas
    cpu_cap = Decimal(str(host.cpus * settings.ADMISSION_CPU_FACTOR))
    memory_cap = int(host.memory_bytes * settings.ADMISSION_MEMORY_FACTOR)
    problems = []
    if want_cpu > cpu_cap:
        problems.append(f"CPU: {want_cpu:g} cores would be reserved, the host allows {cpu_cap:g}")
    if want_memory > memory_cap:
        problems.append(
            f"memory: {want_memory / 1024**2:.0f} MiB would be reserved, the host allows {memory_cap / 1024**2:.0f} MiB"
        )
    return "not enough host resources: " + "; ".join(problems) if problems else ""


def check_replicas(replicas: int, *, actor: str, deployment: Deployment | None = None) -> None:
    if replicas < 0 or replicas > settings.MAX_REPLICAS:
        refuse(
            f"replicas must be between 0 and {settings.MAX_REPLICAS}",
            actor=actor,
            deployment=deployment,
            field="replicas",
            exc=Refused,
        )


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


def create_deployment(*, actor: str, organization: Organization | None = None, **values: Any) -> Deployment:
    """Create a deployment from validated values (name, image, replicas, limits, port, command, env, policy)
    in ``organization`` (the default organization when none is named: internal callers and tests)."""
    values.pop("organization_id", None)
    deployment = Deployment(organization=organization or default_organization(), **values)
    check_replicas(deployment.replicas, actor=actor)
    check_image(deployment, actor=actor)
    if Deployment.objects.filter(organization_id=deployment.organization_id, name=deployment.name).exists():
        refuse(
            f"a deployment named {deployment.name!r} already exists",
            actor=actor,
            field="name",
            exc=Invalid,
            organization_id=deployment.organization_id,
        )
    check_admission(deployment, actor=actor)
    with quotas.guarded(deployment, actor=actor):
        deployment.state = Deployment.State.CONVERGING if deployment.replicas else Deployment.State.STOPPED
        deployment.save()
        record(
            "deployment.created",
            actor=actor,
            deployment=deployment,
            after=deployment.spec(),
            message=f"{deployment.name} created with {deployment.replicas} replica(s) of {deployment.image}",
        )
        queue_converge(deployment.pk)
    return deployment


def changed_spec_fields(deployment: Deployment, changes: dict[str, Any]) -> list[str]:
    """The container-spec fields ``changes`` would change: any of them means a new generation."""
    return [key for key in SPEC_FIELDS if key in changes and getattr(deployment, key) != changes[key]]


def update_deployment(deployment: Deployment, *, actor: str, **changes: Any) -> Deployment:
    """Change desired state; a change to the container spec rolls every container to a new generation."""
    before = deployment.spec()
    # Nobody moves a deployment to another organization by naming one in a body.
    changes.pop("organization", None)
    changes.pop("organization_id", None)
    respec = bool(changed_spec_fields(deployment, changes))
    for key, value in changes.items():
        setattr(deployment, key, value)
    check_replicas(deployment.replicas, actor=actor, deployment=deployment)
    check_image(deployment, actor=actor)
    check_admission(deployment, actor=actor)
    with quotas.guarded(deployment, actor=actor):
        if respec:
            deployment.generation += 1
        deployment.crash_count = 0
        deployment.backoff_until = None
        if deployment.replicas:
            deployment.state = Deployment.State.CONVERGING
        deployment.save()
        record(
            "deployment.updated",
            actor=actor,
            deployment=deployment,
            before=before,
            after=deployment.spec(),
            message=f"{deployment.name} updated" + (" (containers will be recreated)" if respec else ""),
        )
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


def stop(deployment: Deployment, *, actor: str) -> Deployment:
    """Stop every container of the deployment; it stays, with zero replicas, to be scaled up again."""
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
        queue_converge(deployment.pk)
    return deployment


def delete_deployment(deployment: Deployment, *, actor: str) -> None:
    """Remove the deployment's containers, then the deployment; if the engine is down nothing changes."""
    with deployment_lock(deployment.pk):
        observed = engine.list_containers(engine.deployment_labels(deployment.pk))
        hooks.stopping([info.id for info in observed])
        for info in observed:
            engine.remove_container(info.id)
        with transaction.atomic():
            record("deployment.deleted", actor=actor, before=deployment.spec(), message=f"{deployment.name} deleted")
            deployment.delete()


def remove_container(container: Container, *, actor: str) -> None:
    """Remove one container for good: the deployment keeps one replica fewer."""
    deployment = container.deployment
    with deployment_lock(deployment.pk):
        hooks.stopping([container.docker_id])
        engine.remove_container(container.docker_id)
        with transaction.atomic():
            before = deployment.replicas
            Deployment.objects.filter(pk=deployment.pk, replicas__gt=0).update(replicas=F("replicas") - 1)
            deployment.refresh_from_db()
            container.delete()
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


def restart_container(container: Container, *, actor: str) -> None:
    engine.restart_container(container.docker_id)
    record(
        "container.restarted",
        actor=actor,
        deployment=container.deployment,
        container_docker_id=container.docker_id,
        message=f"{container.name} restarted",
    )


def start_image(
    reference: str,
    count: int,
    *,
    cpu_limit: Decimal | None,
    memory_limit_bytes: int | None,
    container_port: int | None,
    actor: str,
    organization: Organization | None = None,
) -> tuple[Deployment, reconcile.Outcome]:
    """The seed's ``POST /containers/{image}/start``: add ``count`` containers of an image and wait for them.

    They belong to the image's default deployment (named after the image), created on first use.
    Limits given here become the deployment's limits (recreating its containers if they differ).
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
    deployment = Deployment.objects.filter(organization=organization, name=name).first()
    if deployment is None:
        deployment = create_deployment(
            actor=actor,
            organization=organization,
            name=name,
            image=image,
            replicas=count,
            cpu_limit=cpu_limit if cpu_limit is not None else Decimal(settings.DEFAULT_CPU_LIMIT),
            memory_limit_bytes=memory_limit_bytes or _default_memory(),
            container_port=container_port,
        )
    else:
        changes: dict[str, Any] = {"replicas": deployment.replicas + count}
        if cpu_limit is not None:
            changes["cpu_limit"] = cpu_limit
        if memory_limit_bytes is not None:
            changes["memory_limit_bytes"] = memory_limit_bytes
        if container_port is not None:
            changes["container_port"] = container_port
        deployment = update_deployment(deployment, actor=actor, **changes)
    outcome = reconcile.converge(deployment.pk) or reconcile.Outcome()
    deployment.refresh_from_db()
    return deployment, outcome


def visible_images(organization: Organization) -> Any:
    """The images an organization may deploy: its own and the shared ones."""
    from django.db.models import Q

    return Image.objects.filter(Q(organization=organization) | Q(organization__isnull=True))


def stop_image(reference: str, *, actor: str, organization: Organization | None = None) -> list[Deployment]:
    """The seed's ``POST /containers/{image}/stop``: stop every deployment of the image in the organization."""
    organization = organization or default_organization()
    deployments = list(
        Deployment.objects.filter(organization=organization, image__reference=reference).select_related("image")
    )
    if not deployments and not visible_images(organization).filter(reference=reference).exists():
        refuse(f"unknown image {reference!r}", actor=actor, field="image", exc=NotFound)
    for deployment in deployments:
        stop(deployment, actor=actor)
        reconcile.converge(deployment.pk)
        deployment.refresh_from_db()
    return deployments


def _default_memory() -> int:
    return parse_memory(settings.DEFAULT_MEMORY_LIMIT)
