"""Bad input on the seed's paths and ``/api/``: a 4xx with a JSON ``error`` and ``fields`` naming the field,
and nothing half-created (no deployment row, no container on the engine). Unknown ids are JSON 404s."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from containers import engine
from containers.models import Deployment, Image

pytestmark = pytest.mark.django_db

IMAGE = "orchestrator-test/bad-input:1"
TOO_MANY = settings.MAX_REPLICAS + 1


@pytest.fixture
def image(engine_ready: None) -> Image:
    """A known image row: the input, not the image, is what is wrong in these tests."""
    return Image.objects.create(reference=IMAGE)


def assert_refused(response: Any, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]
    assert field in body["fields"], body
    assert not Deployment.objects.exists()
    assert engine.list_containers(engine.instance_labels()) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": -1}, "count"),
        ({"count": TOO_MANY}, "count"),
        ({"count": "two"}, "count"),
        ({"count": 1.5}, "count"),
        ({"count": None}, "count"),
        ({"count": 1, "resources": {"memory_limit": "abc"}}, "resources.memory_limit"),
        ({"count": 1, "resources": {"memory_limit": "-1"}}, "resources.memory_limit"),
        ({"count": 1, "resources": {"memory_limit": "0"}}, "resources.memory_limit"),
        ({"count": 1, "resources": {"memory_limit": "999t"}}, "resources.memory_limit"),
        ({"count": 1, "resources": {"memory_limit": "5m"}}, "resources.memory_limit"),
        ({"count": 1, "resources": {"cpu_limit": "abc"}}, "resources.cpu_limit"),
        ({"count": 1, "resources": {"cpu_limit": "0"}}, "resources.cpu_limit"),
        ({"count": 1, "resources": {"cpu_limit": -0.5}}, "resources.cpu_limit"),
        ({"count": 1, "resources": {"cpu_limit": "1000"}}, "resources.cpu_limit"),
        ({"count": 1, "resources": {"cpu_limit": "0.0001"}}, "resources.cpu_limit"),
        ({"count": 1, "resources": "lots"}, "resources.non_field_errors"),
        ({"count": 1, "port": 0}, "port"),
        ({"count": 1, "port": 70000}, "port"),
        ({"count": 1, "port": "http"}, "port"),
    ],
)
def test_seed_start_refuses_bad_values_naming_the_field(
    api_client: APIClient, image: Image, body: dict[str, Any], field: str
) -> None:
    assert_refused(api_client.post(f"/containers/{IMAGE}/start", body, format="json"), field)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("count=2", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ('[{"count": 1}]', "application/json"),
        ('"start"', "application/json"),
        ("\xff\xfe", "text/plain"),
    ],
)
def test_seed_start_refuses_a_body_that_is_not_a_json_object(
    api_client: APIClient, image: Image, raw: str, content_type: str
) -> None:
    assert_refused(api_client.generic("POST", f"/containers/{IMAGE}/start", raw, content_type), "body")


def test_seed_start_past_the_replica_limit_counts_what_already_runs(api_client: APIClient, image: Image) -> None:
    Deployment.objects.create(
        name="orchestrator-test-bad-input-1",
        image=image,
        replicas=settings.MAX_REPLICAS,
        memory_limit_bytes=16 * 1024**2,
    )

    response = api_client.post(f"/containers/{IMAGE}/start", {"count": 1}, format="json")

    assert response.status_code == 400 and "count" in response.json()["fields"]
    assert Deployment.objects.get().replicas == settings.MAX_REPLICAS


def test_seed_start_of_an_image_nobody_added_is_a_404_naming_the_image(api_client: APIClient, image: Image) -> None:
    response = api_client.post("/containers/registry:5000/team/unknown:9/start", {"count": 1}, format="json")

    assert_refused(response, "image", status=404)


def test_seed_start_beyond_what_the_host_holds_is_a_409(api_client: APIClient, image: Image) -> None:
    body = {"count": 1, "resources": {"cpu_limit": "512", "memory_limit": "1t"}}

    response = api_client.post(f"/containers/{IMAGE}/start", body, format="json")

    assert response.status_code == 409 and "not enough host resources" in response.json()["error"]
    assert not Deployment.objects.exists()


def test_seed_stop_refuses_a_body_that_is_not_json(api_client: APIClient, image: Image) -> None:
    response = api_client.generic("POST", f"/containers/{IMAGE}/stop", "{oops", "application/json")

    assert_refused(response, "body")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Not A Slug"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 64}, "name"),
        ({"image": "registry:5000/team/unknown:9"}, "image"),
        ({"image": None}, "image"),
        ({"replicas": -1}, "replicas"),
        ({"replicas": TOO_MANY}, "replicas"),
        ({"replicas": "some"}, "replicas"),
        ({"cpu_limit": "abc"}, "cpu_limit"),
        ({"cpu_limit": 0}, "cpu_limit"),
        ({"cpu_limit": "0.0001"}, "cpu_limit"),
        ({"memory_limit": "abc"}, "memory_limit"),
        ({"memory_limit": "-1"}, "memory_limit"),
        ({"memory_limit": "0"}, "memory_limit"),
        ({"memory_limit": "999t"}, "memory_limit"),
        ({"memory_limit": "5m"}, "memory_limit"),
        ({"command": [1, 2]}, "command"),
        ({"command": "echo 'unbalanced"}, "command"),
        ({"command": {"run": "x"}}, "command"),
        ({"env": {"TOKEN": 1}}, "env"),
        ({"env": {"1BAD": "x"}}, "env"),
        ({"env": ["TOKEN=x"]}, "env"),
        ({"restart_policy": "sometimes"}, "restart_policy"),
        ({"container_port": 0}, "container_port"),
        ({"container_port": 70000}, "container_port"),
    ],
)
def test_api_create_refuses_bad_values_naming_the_field(
    api_client: APIClient, image: Image, changes: dict[str, Any], field: str
) -> None:
    body = {"name": "bad-input", "image": IMAGE, "replicas": 1, "cpu_limit": "0.1", "memory_limit": "16m", **changes}

    assert_refused(api_client.post("/api/deployments/?wait=true", body, format="json"), field)


def test_api_create_refuses_a_wait_that_is_not_a_boolean(api_client: APIClient, image: Image) -> None:
    body = {"name": "bad-wait", "image": IMAGE, "cpu_limit": "0.1", "memory_limit": "16m"}

    assert_refused(api_client.post("/api/deployments/?wait=perhaps", body, format="json"), "wait")


def test_api_create_refuses_a_body_that_is_not_json(api_client: APIClient, image: Image) -> None:
    response = api_client.generic("POST", "/api/deployments/", "{oops", "application/json")

    assert response.status_code == 400 and response.json()["error"]
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"), [({"replicas": -1}, "replicas"), ({"replicas": TOO_MANY}, "replicas"),
                        ({"replicas": "x"}, "replicas"), ({}, "replicas")]
)  # fmt: skip
def test_scale_refuses_bad_replicas_and_leaves_the_deployment_alone(
    api_client: APIClient, image: Image, body: dict[str, Any], field: str
) -> None:
    deployment = Deployment.objects.create(name="bad-scale", image=image, replicas=2, memory_limit_bytes=16 * 1024**2)

    response = api_client.post(f"/api/deployments/{deployment.pk}/scale/", body, format="json")

    assert response.status_code == 400 and field in response.json()["fields"]
    deployment.refresh_from_db()
    assert deployment.replicas == 2 and deployment.generation == 1


def test_patch_refuses_bad_limits_and_leaves_the_deployment_alone(api_client: APIClient, image: Image) -> None:
    deployment = Deployment.objects.create(name="bad-patch", image=image, memory_limit_bytes=16 * 1024**2)

    response = api_client.patch(f"/api/deployments/{deployment.pk}/", {"memory_limit": "5m"}, format="json")

    assert response.status_code == 400 and "memory_limit" in response.json()["fields"]
    deployment.refresh_from_db()
    assert deployment.memory_limit_bytes == 16 * 1024**2 and deployment.generation == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/deployments/999999/"),
        ("get", "/api/deployments/not-an-id/"),
        ("patch", "/api/deployments/999999/"),
        ("delete", "/api/deployments/999999/"),
        ("post", "/api/deployments/999999/scale/"),
        ("post", "/api/deployments/999999/stop/"),
        ("get", "/api/containers/999999/"),
        ("delete", "/api/containers/999999/"),
        ("post", "/api/containers/999999/restart/"),
        ("get", "/api/containers/999999/logs/"),
        ("get", "/api/events/999999/"),
        ("delete", "/containers/0123456789abcdef0123"),
        ("delete", "/containers/999999"),
        ("delete", "/containers/no-such-name"),
        ("delete", "/containers/99999999999999999999999"),
        ("post", "/containers/registry:5000/team/unknown:9/stop"),
    ],
)
def test_unknown_ids_are_json_404s(api_client: APIClient, engine_ready: None, method: str, url: str) -> None:
    response = getattr(api_client, method)(url, {"replicas": 1}, format="json")

    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/json" and response.json()["error"]
