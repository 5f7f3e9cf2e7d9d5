"""Services: which exist, their frontend ports, and the index that grows with every change.

A service exists while a deployment of that name has a container port or any endpoint is
registered under the name. Its frontend port is chosen once from ``LB_PORT_MIN..LB_PORT_MAX``
(free on 127.0.0.1, not a registered endpoint's port) and kept for good: a service that goes
away is retired, not deleted, so no other service ever gets its port.

:func:`touch` is called for every change (endpoints registered, removed or changed status,
services created or retired): it takes the next registry index in the same transaction, marks
the service with it, tells watchers at commit (:mod:`registry.notifications`: PostgreSQL
``NOTIFY`` or Redis pub/sub; they also poll) and queues a load-balancer sync after the commit.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from containers.models import Deployment, record
from containers.refusals import Refused
from registry import notifications
from registry.models import RegistryIndex, Service, ServiceEndpoint
from tenancy.models import DEFAULT_SLUG, default_organization_id

log = logging.getLogger(__name__)

ACTOR = "registry"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class NoFreePort(Refused):
    """Every port of the frontend range is taken (503: the operator widens the range)."""

    status = 503


def next_index() -> int:
    """Take the next registry index (inside the caller's transaction)."""
    updated = RegistryIndex.objects.filter(pk=1).update(value=F("value") + 1)
    if not updated:
        try:
            with transaction.atomic():
                RegistryIndex.objects.create(pk=1, value=1)
                return 1
        except IntegrityError:
            RegistryIndex.objects.filter(pk=1).update(value=F("value") + 1)
    return int(RegistryIndex.objects.values_list("value", flat=True).get(pk=1))


def current_index() -> int:
    return int(RegistryIndex.objects.filter(pk=1).values_list("value", flat=True).first() or 0)


def touch(name: str) -> Service | None:
    """Record a change to service ``name``: create or revive it if it should exist, retire it if
    it should not, stamp it with a new index; watchers and the load balancer hear of it after commit."""
    with transaction.atomic():
        wanted = should_exist(name)
        service = Service.objects.select_for_update().filter(name=name).first()
        if service is None and not wanted:
            return None
        index = next_index()
        if service is None:
            service = _create(name, index)
        else:
            service.modify_index = index
            fields = ["modify_index"]
            if wanted and service.retired_at is not None:
                service.retired_at = None
                fields.append("retired_at")
                record("service.revived", actor=ACTOR, message=f"{name} is back on {service.lb_url}")
            elif not wanted and service.retired_at is None:
                service.retired_at = timezone.now()
                fields.append("retired_at")
                record("service.retired", actor=ACTOR, message=f"{name} has no deployment or endpoints left")
            service.save(update_fields=fields)
        notifications.publish(index)
    transaction.on_commit(_queue_sync)
    return service


def name_for(deployment: Deployment) -> str:
    """The service a deployment's containers serve: its name in the default organization, and
    "<organization slug>-<name>" in any other, so two customers' "web" never share a frontend."""
    if deployment.organization.slug == DEFAULT_SLUG:
        return deployment.name
    return f"{deployment.organization.slug}-{deployment.name}"[:63]


def deployments_serving(name: str) -> QuerySet[Deployment]:
    """The deployments whose service is ``name`` (at most one per organization naming)."""
    qualified = Case(
        When(organization__slug=DEFAULT_SLUG, then=F("name")),
        default=Concat(F("organization__slug"), Value("-"), F("name"), output_field=CharField()),
        output_field=CharField(),
    )
    return Deployment.objects.annotate(service_name=qualified).filter(service_name=name)


def owner_of(name: str) -> int | None:
    """The organization a service name belongs to: its Service row's, else its first endpoint's."""
    owner = Service.objects.filter(name=name).values_list("organization_id", flat=True).first()
    if owner is None:
        owner = ServiceEndpoint.objects.filter(service=name).values_list("organization_id", flat=True).first()
    return owner


def should_exist(name: str) -> bool:
    return (
        deployments_serving(name).filter(container_port__isnull=False).exists()
        or ServiceEndpoint.objects.filter(service=name).exists()
    )


def ensure_for_deployment(deployment: Deployment) -> None:
    """A deployment with a container port is a service; without one it is not (any more)."""
    name = name_for(deployment)
    service = Service.objects.filter(name=name).only("retired_at").first()
    exists = service is not None and service.retired_at is None
    if exists != should_exist(name):
        touch(name)


def retire_orphans() -> int:
    """Retire services with neither a deployment nor endpoints (a deployment deleted, say); the tick runs it."""
    count = 0
    for name in Service.objects.filter(retired_at__isnull=True).values_list("name", flat=True):
        if not should_exist(name):
            touch(name)
            count += 1
    return count


def _create(name: str, index: int) -> Service:
    mode = Service.Mode.HTTP
    protocols = set(ServiceEndpoint.objects.filter(service=name).values_list("protocol", flat=True))
    if protocols == {ServiceEndpoint.Protocol.TCP}:
        mode = Service.Mode.TCP
    for _ in range(20):
        port = free_port()
        try:
            with transaction.atomic():
                owner = deployments_serving(name).values_list("organization_id", flat=True).first()
                owner = owner or owner_of(name) or default_organization_id()
                service = Service.objects.create(
                    name=name, frontend_port=port, mode=mode, modify_index=index, organization_id=owner
                )
        except IntegrityError:
            continue  # another process took this port (or created the service) a moment ago
        record(
            "service.created",
            actor=ACTOR,
            message=f"{name} is served on {service.lb_url}",
            after={"service": name, "frontend_port": port, "mode": mode},
        )
        return service
    raise NoFreePort("no frontend port could be reserved; try again", field="service")


def free_port() -> int:
    """The lowest port of the range that no service ever had, no loopback endpoint uses, and nothing listens on."""
    taken = set(Service.objects.values_list("frontend_port", flat=True))
    taken |= set(ServiceEndpoint.objects.filter(host__in=LOOPBACK_HOSTS).values_list("port", flat=True))
    for port in range(settings.LB_PORT_MIN, settings.LB_PORT_MAX + 1):
        if port not in taken and _bindable(port):
            return port
    raise NoFreePort(
        f"every frontend port in {settings.LB_PORT_MIN}-{settings.LB_PORT_MAX} is taken; widen LB_PORT_MIN/LB_PORT_MAX",
        field="service",
    )


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def lb_urls(names: Sequence[str]) -> dict[str, str]:
    """The ``containers.hooks.lb_urls`` receiver: each named service's load-balanced URL, in one query;
    none while the load balancer is off."""
    if not settings.LB_ENABLED or not names:
        return {}
    return {
        service.name: service.lb_url
        for service in Service.objects.filter(name__in=list(names), retired_at__isnull=True)
    }


def frontend_ports() -> set[int]:
    return set(Service.objects.values_list("frontend_port", flat=True))


def _queue_sync() -> None:
    if not settings.LB_ENABLED:
        return
    from registry.tasks import sync_loadbalancer

    try:
        sync_loadbalancer.delay()
    except Exception as exc:  # the broker being down must not fail the change; the tick syncs anyway
        log.warning("could not queue a load balancer sync: %s", exc)
