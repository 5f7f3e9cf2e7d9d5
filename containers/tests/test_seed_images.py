"""The seed's ``GET /images``: per image, its desired replicas and the containers running now."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import docker_cli
from containers import engine, reconcile
from containers.deployments import create_deployment, delete_deployment
from containers.models import Deployment, Image
from containers.tests.image_tags import demo_tag

pytestmark = pytest.mark.django_db(transaction=True)
MIB = 1024 * 1024


@pytest.fixture
def deployments() -> Iterator[list[Deployment]]:
    """Deployments a test creates; their containers are removed when it ends."""
    made: list[Deployment] = []
    yield made
    for deployment in made:
        if Deployment.objects.filter(pk=deployment.pk).exists():
            delete_deployment(deployment, actor="tests")


def deploy(made: list[Deployment], image: Image, name: str, replicas: int) -> Deployment:
    deployment = create_deployment(
        actor="tests", name=name, image=image, replicas=replicas, cpu_limit=Decimal("0.1"), memory_limit_bytes=16 * MIB
    )
    made.append(deployment)
    reconcile.converge(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def by_reference(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content
    return {item["reference"]: item for item in response.json()}


def test_it_counts_desired_replicas_and_running_containers_per_image(
    api_client: APIClient, demo_image: Image, deployments: list[Deployment]
) -> None:
    deploy(deployments, demo_image, "seed-web", 2)
    deploy(deployments, demo_image, "seed-api", 1)
    deploy(deployments, demo_image, "seed-idle", 0)

    item = by_reference(api_client.get("/images"))[demo_image.reference]

    assert item["id"] == demo_image.pk
    assert item["docker_id"] == demo_image.docker_id
    assert item["size_bytes"] > 0 and item["created"]
    assert item["desired_replicas"] == 3
    assert item["running"] == 3
    assert item["deployments"] == [
        {"name": "seed-api", "replicas": 1, "state": "running", "running": 1},
        {"name": "seed-idle", "replicas": 0, "state": "stopped", "running": 0},
        {"name": "seed-web", "replicas": 2, "state": "running", "running": 2},
    ]


def test_a_container_killed_a_moment_ago_is_not_counted_as_running(
    api_client: APIClient, demo_image: Image, deployments: list[Deployment]
) -> None:
    deployment = deploy(deployments, demo_image, "seed-killed", 2)
    victim = engine.list_containers(engine.deployment_labels(deployment.pk))[0]
    docker_cli("kill", victim.id)

    item = by_reference(api_client.get("/images/"))[demo_image.reference]

    assert item["desired_replicas"] == 2
    assert item["running"] == 1


def test_images_loaded_by_hand_are_listed_with_nothing_desired(api_client: APIClient, demo_image: Image) -> None:
    with demo_tag("seed-by-hand") as reference:
        item = by_reference(api_client.get("/images"))[reference]

    assert item["desired_replicas"] == 0 and item["running"] == 0 and item["deployments"] == []


def test_it_costs_the_same_queries_for_2_or_50_images(api_client: APIClient, demo_image: Image) -> None:
    def make(count: int) -> None:
        for index in range(count):
            image = Image.objects.create(reference=f"orchestrator-test/seed-n1-{count}-{index}:1")
            Deployment.objects.create(
                name=f"seed-n1-{count}-{index}", image=image, replicas=1, memory_limit_bytes=16 * MIB
            )

    def queries() -> int:
        api_client.get("/images")  # settles what the engine holds, so both counts sync nothing new
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/images").status_code == 200
        return len(ctx.captured_queries)

    make(2)
    few = queries()
    make(48)

    assert queries() == few


def test_only_get_is_allowed(api_client: APIClient, db: None) -> None:
    assert api_client.post("/images", {}, format="json").status_code == 405
