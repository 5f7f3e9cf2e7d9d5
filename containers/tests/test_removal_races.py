"""Removing a container while its deployment is deleted, twice at once, or restarting one being removed:
each request answers 200, 404 or 409, never a 500, and the rows end consistent."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from conftest import deploy, on_engine
from containers import deployments, reconcile
from containers.models import Container, Deployment, Event, Image

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_removing_a_container_while_its_deployment_is_deleted_never_fails_with_a_500(
    api_client: APIClient, demo_image: Image, remove_test_containers: None
) -> None:
    for round_ in range(3):
        deployment = deploy(demo_image, f"race-{round_}", replicas=2)
        victim = Container.objects.filter(deployment=deployment).first()

        seed, api = at_once(
            lambda v=victim: api_client.delete(f"/containers/{v.docker_id}"),
            lambda d=deployment: api_client.delete(f"/api/deployments/{d.pk}/"),
        )

        assert seed.status_code in (200, 404), seed.content
        assert api.status_code in (204, 404), api.content
        assert not Deployment.objects.filter(pk=deployment.pk).exists()
        assert not Container.objects.filter(deployment_id=deployment.pk).exists()
        assert on_engine(deployment) == []


def test_two_removals_of_one_container_remove_one_replica(
    api_client: APIClient, demo_image: Image, remove_test_containers: None
) -> None:
    deployment = deploy(demo_image, "twice", replicas=3)
    victim = Container.objects.filter(deployment=deployment).first()

    first, second = at_once(
        lambda: api_client.delete(f"/containers/{victim.docker_id}"),
        lambda: api_client.delete(f"/api/containers/{victim.pk}/"),
    )

    assert sorted([first.status_code, second.status_code]) in ([200, 404], [204, 404]), (first, second)
    deployment.refresh_from_db()
    assert deployment.replicas == 2
    assert Event.objects.filter(kind="container.deleted", container_docker_id=victim.docker_id).count() == 1


def test_restarting_a_container_that_is_being_removed_is_a_409(
    api_client: APIClient, demo_image: Image, remove_test_containers: None
) -> None:
    deployment = deploy(demo_image, "restart-gone", replicas=1)
    victim = Container.objects.get(deployment=deployment)
    stale = Container.objects.get(pk=victim.pk)
    deployments.remove_container(victim, actor="tests")

    response = api_client.post(f"/api/containers/{victim.pk}/restart/")

    assert response.status_code == 404  # the row is gone: nothing by that id
    with pytest.raises(deployments.Refused) as refused:
        deployments.restart_container(stale, actor="tests")  # a request that read the row just before
    assert refused.value.status == 409 and refused.value.fields == {"id": [refused.value.message]}
    reconcile.converge(deployment.pk)
