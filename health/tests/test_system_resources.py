"""GET /system/resources: host capacity, what deployments reserve, what is left for admission."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from containers import engine
from containers.deployments import create_deployment, reserved
from containers.models import Image

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


@pytest.fixture
def unreachable_engine(settings: Any) -> Iterator[None]:
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    yield
    settings.DOCKER_HOST = ""
    engine.reset_client()


@pytest.fixture
def two_deployments(engine_ready: None) -> None:
    # Only the rows matter here: outside a committed transaction no converge is ever queued.
    image = Image.objects.create(reference="orchestrator-test/resources:1")
    create_deployment(
        actor="tests", name="res-a", image=image, replicas=2, cpu_limit=Decimal("0.25"), memory_limit_bytes=64 * MIB
    )
    create_deployment(
        actor="tests", name="res-b", image=image, replicas=1, cpu_limit=Decimal("0.5"), memory_limit_bytes=32 * MIB
    )


def test_it_refuses_anonymous_users(anon_client: APIClient) -> None:
    assert anon_client.get("/system/resources").status_code in (401, 403)


def test_it_refuses_post(api_client: APIClient) -> None:
    assert api_client.post("/system/resources").status_code == 405


def test_host_figures_are_the_engines(api_client: APIClient, engine_ready: None) -> None:
    host = engine.host_info()

    body = api_client.get("/system/resources").json()

    assert body["cpu"]["total"] == host.cpus
    assert body["memory"]["total_bytes"] == host.memory_bytes
    assert body["engine"]["version"] == host.server_version
    assert body["containers"]["running"] == host.containers_running


def test_reservations_are_the_deployments_and_the_rest_is_available(
    api_client: APIClient, two_deployments: None, settings: Any
) -> None:
    settings.ADMISSION_CPU_FACTOR = 1.0
    settings.ADMISSION_MEMORY_FACTOR = 0.5
    host = engine.host_info()
    assert reserved().cpu == Decimal("1.0") and reserved().memory_bytes == 160 * MIB

    response = api_client.get("/system/resources/")

    assert response.status_code == 200
    body = response.json()
    assert body["cpu"]["reserved"] == 1.0
    assert body["cpu"]["available"] == pytest.approx(host.cpus - 1.0)
    assert body["memory"]["reserved_bytes"] == 160 * MIB
    assert body["memory"]["admission_capacity_bytes"] == int(host.memory_bytes * 0.5)
    assert body["memory"]["available_bytes"] == int(host.memory_bytes * 0.5) - 160 * MIB


def test_disk_is_measured_where_the_engine_keeps_its_data(api_client: APIClient, engine_ready: None) -> None:
    root = engine.host_info().docker_root_dir

    disk = api_client.get("/system/resources").json()["disk"]

    assert disk["path"] == root
    usage = shutil.disk_usage(root)
    assert disk["total_bytes"] == usage.total
    assert 0 < disk["free_bytes"] <= usage.total


def test_an_engine_that_does_not_answer_gives_503(api_client: APIClient, unreachable_engine: None) -> None:
    response = api_client.get("/system/resources")

    assert response.status_code == 503
    assert "does not answer" in response.json()["error"]
