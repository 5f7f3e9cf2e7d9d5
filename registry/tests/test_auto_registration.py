"""Managed containers register themselves: one endpoint per running, published container, kept by converge."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from conftest import deploy, docker_cli, wait_for
from containers import reconcile
from containers.deployments import scale
from containers.models import Container, Deployment, Event
from registry.endpoints import sync_for_deployment
from registry.models import ServiceEndpoint

# Committed for real, like test_reconcile: rolled-back ids would be reused and adopt an earlier test's containers.
pytestmark = pytest.mark.django_db(transaction=True)


def endpoints_of(deployment: Deployment) -> list[ServiceEndpoint]:
    return list(ServiceEndpoint.objects.filter(service=deployment.name).select_related("container"))


def http_status(host: str, port: int) -> int:
    """The status of ``GET /``, waiting while the server inside the fresh container starts listening."""

    def get() -> int:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/", timeout=5) as response:
                return int(response.status)
        except OSError:
            return 0

    return int(wait_for(get, timeout=10, what=f"http://{host}:{port}/ to answer"))


def test_two_replicas_get_two_endpoints_that_answer_http(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-two", 2, container_port=8080)

    endpoints = endpoints_of(deployment)
    containers = {c.pk: c for c in Container.objects.filter(deployment=deployment)}
    assert len(endpoints) == 2
    for endpoint in endpoints:
        assert endpoint.container_id in containers
        assert (endpoint.host, endpoint.port) == ("127.0.0.1", containers[endpoint.container_id].host_port)
        assert (endpoint.protocol, endpoint.status) == ("http", "healthy")
        assert http_status(endpoint.host, endpoint.port) == 200
    events = Event.objects.filter(kind="endpoint.registered", deployment=deployment)
    assert events.count() == 2 and {e.actor for e in events} == {"reconciler"}


def test_scaling_to_one_leaves_one_endpoint(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-scale", 2, container_port=8080)

    scale(deployment, 1, actor="tests")
    reconcile.converge(deployment.pk)

    survivor = Container.objects.get(deployment=deployment)
    assert [(e.container_id, e.port) for e in endpoints_of(deployment)] == [(survivor.pk, survivor.host_port)]


def test_a_second_converge_changes_nothing(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-idem", 2, container_port=8080)
    before = {(e.pk, e.port, e.status) for e in endpoints_of(deployment)}
    events = Event.objects.filter(kind__startswith="endpoint.", deployment=deployment).count()

    reconcile.converge(deployment.pk)

    assert {(e.pk, e.port, e.status) for e in endpoints_of(deployment)} == before
    assert {status for _, _, status in before} == {"healthy"}
    assert Event.objects.filter(kind__startswith="endpoint.", deployment=deployment).count() == events


def test_a_container_without_a_published_port_gets_no_endpoint(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-noport", 1)

    assert endpoints_of(deployment) == []


def test_a_stopped_container_loses_its_endpoint_and_its_replacement_gets_one(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-heal", 1, container_port=8080)
    victim = Container.objects.get(deployment=deployment)

    docker_cli("stop", "-t", "1", victim.docker_id)
    reconcile.converge(deployment.pk)

    replacement = Container.objects.get(deployment=deployment)
    assert replacement.pk != victim.pk
    assert [(e.container_id, e.port) for e in endpoints_of(deployment)] == [(replacement.pk, replacement.host_port)]


def test_an_operators_draining_survives_the_next_converge(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-drain", 1, container_port=8080)
    ServiceEndpoint.objects.filter(service=deployment.name).update(status="draining")

    reconcile.converge(deployment.pk)

    assert [e.status for e in endpoints_of(deployment)] == ["draining"]


def test_an_endpoint_at_a_stale_port_is_replaced_by_one_at_the_containers_port(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-moved", 1, container_port=8080)
    container = Container.objects.get(deployment=deployment)
    # As after a restart that published the container on another host port.
    ServiceEndpoint.objects.filter(container=container).update(port=1)

    sync_for_deployment(deployment)

    assert [e.port for e in endpoints_of(deployment)] == [container.host_port]
    assert Event.objects.filter(kind="endpoint.removed", deployment=deployment, before__port=1).count() == 1


def test_stopping_the_deployment_removes_every_endpoint(demo_image: Any) -> None:
    deployment = deploy(demo_image, "auto-stop", 2, container_port=8080)

    scale(deployment, 0, actor="tests")
    reconcile.converge(deployment.pk)

    assert endpoints_of(deployment) == []
