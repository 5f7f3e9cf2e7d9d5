"""Every seed container path and every ``/api/`` path of deployments, containers and events needs a login:
a DRF token (machines) or the console's session (with its CSRF token for changes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from containers.models import Container, Deployment, Event, Image

pytestmark = pytest.mark.django_db

PATHS = [
    ("get", "/containers"),
    ("get", "/containers/"),
    ("post", "/containers/orchestrator-demo:latest/start"),
    ("post", "/containers/registry:5000/team/app:1.2/start"),
    ("post", "/containers/registry:5000/team/app:1.2/stop"),
    ("delete", "/containers/0123456789ab"),
    ("get", "/api/deployments/"),
    ("post", "/api/deployments/"),
    ("get", "/api/deployments/{deployment}/"),
    ("patch", "/api/deployments/{deployment}/"),
    ("delete", "/api/deployments/{deployment}/"),
    ("post", "/api/deployments/{deployment}/scale/"),
    ("post", "/api/deployments/{deployment}/stop/"),
    ("get", "/api/containers/"),
    ("get", "/api/containers/{container}/"),
    ("delete", "/api/containers/{container}/"),
    ("post", "/api/containers/{container}/restart/"),
    ("get", "/api/containers/{container}/logs/"),
    ("get", "/api/events/"),
    ("get", "/api/events/{event}/"),
    ("get", "/api/schema/"),
    ("get", "/api/docs/"),
]


@pytest.fixture
def rows() -> dict[str, int]:
    """Real rows behind the ids, so a refusal can only be about who is asking."""
    image = Image.objects.create(reference="orchestrator-test/auth:1")
    deployment = Deployment.objects.create(name="auth", image=image, replicas=1, memory_limit_bytes=16 * 1024**2)
    container = Container.objects.create(deployment=deployment, docker_id="a" * 64, name="auth-1", status="running")
    event = Event.objects.create(kind="deployment.created", actor="alice", deployment=deployment)
    return {"deployment": deployment.pk, "container": container.pk, "event": event.pk}


def call(client: Any, method: str, url: str, rows: dict[str, int]) -> Any:
    return getattr(client, method)(url.format(**rows), {"count": 1, "replicas": 3}, format="json")


def assert_untouched(rows: dict[str, int]) -> None:
    deployment = Deployment.objects.get(pk=rows["deployment"])
    assert deployment.replicas == 1 and Deployment.objects.count() == 1
    assert Container.objects.filter(pk=rows["container"]).exists()
    assert Event.objects.count() == 1


@pytest.mark.parametrize(("method", "url"), PATHS)
def test_an_anonymous_caller_is_refused(anon_client: APIClient, rows: dict[str, int], method: str, url: str) -> None:
    response = call(anon_client, method, url, rows)

    assert response.status_code == 401, response.content
    if not url.startswith(("/api/docs/", "/api/schema/")):  # those render HTML and YAML
        assert response.json()["error"] == "Authentication credentials were not provided."
    assert_untouched(rows)


@pytest.mark.parametrize(("method", "url"), PATHS)
def test_a_wrong_token_is_refused(rows: dict[str, int], method: str, url: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert call(client, method, url, rows).status_code == 401
    assert_untouched(rows)


def test_the_console_session_reads_the_api(user: Any, rows: dict[str, int]) -> None:
    client = Client()
    client.force_login(user)

    assert client.get("/containers").json()["total"] == 1
    assert client.get("/api/deployments/").json()["count"] == 1
    assert client.get(f"/api/events/{rows['event']}/").status_code == 200


def test_a_session_change_without_the_csrf_token_is_refused(user: Any, rows: dict[str, int]) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    scale = client.post(f"/api/deployments/{rows['deployment']}/scale/", {"replicas": 3}, format="json")
    delete = client.delete(f"/containers/{rows['container']}")

    assert scale.status_code == 403 and "CSRF" in scale.json()["error"]
    assert delete.status_code == 403
    assert_untouched(rows)
