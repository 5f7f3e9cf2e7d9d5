"""GET /containers/instances/{id}/health: one managed container's state, as the engine reports it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import TEST_IMAGE_PREFIX, docker_cli, wait_for
from containers import reconcile
from containers.deployments import create_deployment, delete_deployment
from containers.models import Container, Deployment, Image

# Committed for real, like test_reconcile: rolled-back ids would be reused and adopt an earlier test's containers.
pytestmark = pytest.mark.django_db(transaction=True)


def deploy(image: Image, name: str) -> Container:
    deployment = create_deployment(
        actor="tests",
        name=name,
        image=image,
        replicas=1,
        cpu_limit=Decimal("0.05"),
        memory_limit_bytes=16 * 1024 * 1024,
        container_port=8080,
    )
    reconcile.converge(deployment.pk)
    return Container.objects.get(deployment=deployment)


@pytest.fixture
def running(demo_image: Image) -> Container:
    return deploy(demo_image, "ch-running")


@pytest.fixture
def image_with_failing_healthcheck(demo_image: Image, tmp_path: Path) -> Any:
    reference = f"{TEST_IMAGE_PREFIX}failing-healthcheck:1"
    (tmp_path / "Dockerfile").write_text(
        f'FROM {demo_image.reference}\nHEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD ["/bin/false"]\n'
    )
    docker_cli("build", "-q", "-t", reference, str(tmp_path))
    image = Image.objects.create(reference=reference)
    yield image
    for deployment in Deployment.objects.filter(image=image):
        delete_deployment(deployment, actor="tests")
    docker_cli("rmi", "-f", reference)


def test_a_running_container_is_healthy(api_client: APIClient, running: Container) -> None:
    response = api_client.get(f"/containers/instances/{running.docker_id}/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy" and body["basis"] == "state"
    assert body["running"] is True and body["state"] == "running"
    assert body["id"] == running.docker_id and body["deployment"] == "ch-running"
    assert body["host_port"] == running.host_port and body["address"] == f"127.0.0.1:{running.host_port}"
    assert body["restart_count"] == 0 and body["exit_code"] is None and body["oom_killed"] is False
    assert body["started_at"] and body["healthcheck"] is None
    assert body["memory_limit_bytes"] == 16 * 1024 * 1024


def test_it_finds_a_container_by_a_12_character_prefix_or_by_its_row_id(
    api_client: APIClient, running: Container
) -> None:
    by_prefix = api_client.get(f"/containers/instances/{running.short_id}/health/")
    by_pk = api_client.get(f"/containers/instances/{running.pk}/health")

    assert by_prefix.status_code == by_pk.status_code == 200
    assert by_prefix.json()["id"] == by_pk.json()["id"] == running.docker_id


def test_a_container_stopped_from_outside_is_stopped(api_client: APIClient, running: Container) -> None:
    docker_cli("stop", "-t", "1", running.docker_id)

    body = api_client.get(f"/containers/instances/{running.docker_id}/health").json()

    assert body["status"] == "stopped"
    assert body["running"] is False and body["state"] == "exited"
    assert body["exit_code"] is not None and body["finished_at"]


def test_a_failing_docker_healthcheck_makes_it_critical(
    api_client: APIClient, image_with_failing_healthcheck: Image
) -> None:
    container = deploy(image_with_failing_healthcheck, "ch-healthcheck")
    url = f"/containers/instances/{container.docker_id}/health"

    body = wait_for(
        lambda: (b := api_client.get(url).json())["status"] == "critical" and b,
        timeout=20,
        what="Docker to judge the container unhealthy",
    )

    assert body["basis"] == "healthcheck"
    assert body["healthcheck"]["status"] == "unhealthy" and body["healthcheck"]["failing_streak"] >= 1
    assert body["running"] is True


@pytest.mark.parametrize("identifier", ["0123456789abcdef", "999999", "abc"])
def test_it_answers_404_for_an_unknown_container(api_client: APIClient, identifier: str) -> None:
    response = api_client.get(f"/containers/instances/{identifier}/health")

    assert response.status_code == 404
    assert "error" in response.json()


def test_a_container_gone_from_the_engine_is_404(api_client: APIClient, running: Container) -> None:
    docker_cli("rm", "-f", running.docker_id)

    response = api_client.get(f"/containers/instances/{running.docker_id}/health")

    assert response.status_code == 404
    assert "no longer on the engine" in response.json()["error"]


def test_it_refuses_anonymous_users(anon_client: APIClient, running: Container) -> None:
    assert anon_client.get(f"/containers/instances/{running.docker_id}/health").status_code in (401, 403)


def test_it_refuses_post(api_client: APIClient, running: Container) -> None:
    assert api_client.post(f"/containers/instances/{running.docker_id}/health").status_code == 405
