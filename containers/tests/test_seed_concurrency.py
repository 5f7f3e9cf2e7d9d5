"""Concurrent seed starts, on the real engine and database: each adds exactly what it asked for, lists
exactly the containers it started, and a race to create an image's deployment ends in no 500."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import wait_for
from containers import engine
from containers.models import Deployment, Event, Image
from containers.tests.image_tags import demo_tag

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("remove_test_containers")]

SMALL = {"cpu_limit": "0.01", "memory_limit": "8m"}


@pytest.fixture
def fresh_image(demo_image: Image) -> Iterator[Image]:
    """A tag of the demo image no deployment uses yet."""
    with demo_tag("concurrent") as reference:
        yield Image.objects.create(reference=reference, source=Image.Source.ENGINE)


def start_together(token: str, reference: str, calls: int) -> list[Any]:
    """``calls`` seed starts of ``count`` 1, released at the same moment, each on its own connection."""
    barrier = threading.Barrier(calls)
    responses: list[Any] = [None] * calls

    def call(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait(timeout=30)
            responses[index] = client.post(
                f"/containers/{reference}/start", {"count": 1, "resources": SMALL}, format="json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return responses


def running(deployment: Deployment) -> list[engine.ContainerInfo]:
    return [c for c in engine.list_containers(engine.deployment_labels(deployment.pk)) if c.running]


def wait_running(deployment: Deployment, count: int) -> set[str]:
    def check() -> set[str] | None:
        ids = {c.id for c in running(deployment)}
        return ids if len(ids) == count else None

    return wait_for(check, timeout=30, what=f"{count} running containers")


def assert_all_started_one(responses: list[Any]) -> set[str]:
    """Every call answered 201 listing exactly one container, none listed twice; returns the ids."""
    assert [r.status_code for r in responses] == [201] * len(responses), [
        r.content for r in responses if r.status_code != 201
    ]
    started = [r.json()["started"] for r in responses]
    assert all(len(ids) == 1 for ids in started), started
    ids = {docker_id for ids in started for docker_id in ids}
    assert len(ids) == len(responses)
    return ids


def test_twenty_concurrent_starts_on_a_new_image_want_twenty_and_run_twenty(user: Any, fresh_image: Image) -> None:
    token = Token.objects.create(user=user).key

    responses = start_together(token, fresh_image.reference, 20)

    ids = assert_all_started_one(responses)
    deployment = Deployment.objects.get(image=fresh_image)
    assert deployment.replicas == 20
    assert wait_running(deployment, 20) == ids
    assert Event.objects.filter(kind="deployment.created", deployment=deployment).count() == 1


def test_ten_concurrent_first_starts_of_an_image_end_in_no_500(user: Any, fresh_image: Image) -> None:
    token = Token.objects.create(user=user).key

    responses = start_together(token, fresh_image.reference, 10)

    assert [r.status_code for r in responses] == [201] * 10, [r.content for r in responses if r.status_code != 201]
    assert Deployment.objects.filter(image=fresh_image).count() == 1


def test_concurrent_starts_on_an_existing_deployment_lose_no_update(user: Any, fresh_image: Image) -> None:
    token = Token.objects.create(user=user).key
    [first] = start_together(token, fresh_image.reference, 1)
    assert first.status_code == 201, first.content

    responses = start_together(token, fresh_image.reference, 10)

    ids = assert_all_started_one(responses)
    assert first.json()["started"][0] not in ids
    deployment = Deployment.objects.get(image=fresh_image)
    assert deployment.replicas == 11
    assert wait_running(deployment, 11) == ids | set(first.json()["started"])
