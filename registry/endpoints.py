"""Service endpoints: one function per action, called by the seed paths, the API and the reconciler.

Every change writes an Event (``endpoint.registered``, ``endpoint.status``, ``endpoint.removed``).
Managed containers are registered by :func:`sync_for_deployment` at the end of every converge
(registered into ``containers.hooks.after_converge`` by this app's ``ready()``);
external services register themselves through the API.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from containers.models import Container, Deployment, record
from containers.refusals import Refused, refuse
from registry import services
from registry.models import ServiceEndpoint
from tenancy.models import Organization, default_organization

AUTO_HOST = "127.0.0.1"  # managed containers publish their port on loopback only
AUTO_ACTOR = "reconciler"


class DuplicateEndpoint(Refused):
    """An endpoint with the same service, host and port is already registered (409)."""

    def __init__(self, service: str, host: str, port: int) -> None:
        super().__init__(f"{service} at {host}:{port} is already registered", field="service")
        self.fields = {
            name: ["an endpoint with this service, host and port already exists"]
            for name in ("service", "host", "port")
        }


class FrontendCollision(Refused):
    """The address is one of the load balancer's frontends: HAProxy would send the service to itself."""


class ServiceNameTaken(Refused):
    """The service name is another organization's (409)."""

    status = 409


def snapshot(endpoint: ServiceEndpoint) -> dict[str, Any]:
    """What an Event records as before/after."""
    return {
        "id": endpoint.pk,
        "service": endpoint.service,
        "host": endpoint.host,
        "port": endpoint.port,
        "protocol": endpoint.protocol,
        "status": endpoint.status,
        "container": endpoint.container.docker_id if endpoint.container else None,
    }


def _deployment_of(endpoint: ServiceEndpoint) -> Deployment | None:
    return endpoint.container.deployment if endpoint.container else None


def register(
    *,
    service: str,
    host: str,
    port: int,
    actor: str,
    protocol: str = ServiceEndpoint.Protocol.HTTP,
    status: str = ServiceEndpoint.Status.UNKNOWN,
    metadata: dict[str, Any] | None = None,
    container: Container | None = None,
    organization: Organization | None = None,
) -> ServiceEndpoint:
    """Add an endpoint; :class:`DuplicateEndpoint` if its address is already registered for the service,
    :class:`FrontendCollision` if it is one of the load balancer's own frontends."""
    if host in services.LOOPBACK_HOSTS and port in services.frontend_ports():
        refuse(
            f"port {port} on {host} is a load balancer frontend; register the service's own address",
            actor=actor,
            field="port",
            exc=FrontendCollision,
        )
    endpoint = ServiceEndpoint(
        service=service,
        host=host,
        port=port,
        protocol=protocol,
        status=status,
        metadata=metadata or {},
        container=container,
        # A managed container's endpoint is its deployment's organization's, whoever registers it.
        organization=container.deployment.organization if container else organization or default_organization(),
    )
    owner = services.owner_of(service)
    if owner is not None and owner != endpoint.organization_id:
        message = f"the service name {service!r} belongs to another organization: choose another"
        record(
            "request.refused",
            actor=actor,
            message=message,
            after={"field": "service"},
            organization_id=endpoint.organization_id,
        )
        raise ServiceNameTaken(message, field="service")
    if ServiceEndpoint.objects.filter(
        organization=endpoint.organization, service=service, host=host, port=port
    ).exists():
        _refuse_duplicate(service, host, port, actor)
    try:
        with transaction.atomic():
            endpoint.save()
            record(
                "endpoint.registered",
                actor=actor,
                deployment=_deployment_of(endpoint),
                container_docker_id=container.docker_id if container else "",
                after=snapshot(endpoint),
                message=f"{service} registered at {host}:{port} ({status})",
            )
    except IntegrityError:
        # Registered by someone else between the check and the insert.
        _refuse_duplicate(service, host, port, actor)
    return endpoint


def _refuse_duplicate(service: str, host: str, port: int, actor: str) -> None:
    """Refusals are recorded in the event log, as the deployment actions' are."""
    error = DuplicateEndpoint(service, host, port)
    record("request.refused", actor=actor, message=error.message, after={"fields": sorted(error.fields)})
    raise error


def set_status(endpoint: ServiceEndpoint, status: str, *, actor: str) -> ServiceEndpoint:
    """Change an endpoint's status; setting the status it already has writes nothing."""
    if status not in ServiceEndpoint.Status.values:
        raise Refused(f"status must be one of {', '.join(ServiceEndpoint.Status.values)}", field="status")
    if endpoint.status == status:
        return endpoint
    before = endpoint.status
    with transaction.atomic():
        endpoint.status = status
        endpoint.save(update_fields=["status", "updated_at"])
        record(
            "endpoint.status",
            actor=actor,
            deployment=_deployment_of(endpoint),
            container_docker_id=endpoint.container.docker_id if endpoint.container else "",
            before={"status": before},
            after=snapshot(endpoint),
            message=f"{endpoint} is {status} (was {before})",
        )
    return endpoint


def remove(endpoint: ServiceEndpoint, *, actor: str) -> None:
    with transaction.atomic():
        record(
            "endpoint.removed",
            actor=actor,
            deployment=_deployment_of(endpoint),
            container_docker_id=endpoint.container.docker_id if endpoint.container else "",
            before=snapshot(endpoint),
            message=f"{endpoint} removed",
        )
        endpoint.delete()


def sync_for_deployment(deployment: Deployment) -> None:
    """Keep one endpoint per running, published container of ``deployment``, and no others.

    New endpoints start ``healthy`` once their container is ready (``Container.ready_at``), ``unknown``
    (no traffic) until then. An existing endpoint keeps its status but for ``unknown`` turning ``healthy``
    when its container became ready, so an operator's ``draining`` is not undone by the next tick.
    A container whose host port changed (restarted) gets a new endpoint at its new address.
    """
    services.ensure_for_deployment(deployment)
    wanted = {c.pk: c for c in deployment.containers.filter(status=Container.Status.RUNNING, host_port__isnull=False)}
    # The container's deployment is read again by each event written on removal.
    current = ServiceEndpoint.objects.filter(container__deployment=deployment).select_related("container__deployment")
    for endpoint in current:
        container = wanted.get(endpoint.container_id or 0)
        if container is not None and (endpoint.service, endpoint.host, endpoint.port) == (
            services.name_for(deployment),
            AUTO_HOST,
            container.host_port,
        ):
            del wanted[container.pk]
            if endpoint.status == ServiceEndpoint.Status.UNKNOWN and container.ready_at is not None:
                set_status(endpoint, ServiceEndpoint.Status.HEALTHY, actor=AUTO_ACTOR)
            continue
        remove(endpoint, actor=AUTO_ACTOR)
    for container in wanted.values():
        _register_container(deployment, container)


def after_converge(deployment_id: int) -> None:
    """The ``containers.hooks.after_converge`` receiver: database work only, so it runs inline."""
    deployment = Deployment.objects.filter(pk=deployment_id).first()
    if deployment is not None:
        sync_for_deployment(deployment)


def _register_container(deployment: Deployment, container: Container) -> None:
    assert container.host_port is not None
    service = services.name_for(deployment)
    stale = ServiceEndpoint.objects.filter(
        organization=deployment.organization, service=service, host=AUTO_HOST, port=container.host_port
    ).first()
    if stale is not None:
        # The address was registered by hand (or by a container now gone): ours now runs there.
        remove(stale, actor=AUTO_ACTOR)
    register(
        service=service,
        host=AUTO_HOST,
        port=container.host_port,
        actor=AUTO_ACTOR,
        protocol=ServiceEndpoint.Protocol.HTTP,
        # Traffic only once it answered its readiness check (containers.rollouts.ready).
        status=ServiceEndpoint.Status.HEALTHY if container.ready_at else ServiceEndpoint.Status.UNKNOWN,
        metadata={"container": container.name},
        container=container,
    )
