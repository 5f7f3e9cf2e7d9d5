"""GET /test/integration: every part exercised for real, each reported with status, duration and message."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import TEST_INSTANCE, Process, docker_cli, wait_for
from orchestrator_site.processes import heartbeats
from orchestrator_site.processes.models import Heartbeat

PARTS = {"database", "broker", "worker", "watcher", "engine"}


@pytest.fixture
def user(organization: Any) -> Any:
    """alice as staff: the integration test starts a container on the shared engine: staff only."""
    from conftest import make_member

    return make_member("alice", organization, "admin", is_superuser=True, is_staff=True)


def probes_left() -> str:
    return docker_cli(
        "ps",
        "-aq",
        "--filter",
        "label=orchestrator.probe=1",
        "--filter",
        f"label=orchestrator.instance={TEST_INSTANCE}",
    )


def authenticated(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.django_db
def test_it_refuses_anonymous_users(anon_client: APIClient) -> None:
    assert anon_client.get("/test/integration").status_code in (401, 403)


@pytest.mark.django_db
def test_it_refuses_post(api_client: APIClient) -> None:
    assert api_client.post("/test/integration").status_code == 405


@pytest.mark.django_db
def test_without_a_worker_it_says_the_worker_is_down(api_client: APIClient, demo_image: Any, settings: Any) -> None:
    settings.INTEGRATION_WORKER_TIMEOUT_S = 0.5
    heartbeats.beat("watcher")

    response = api_client.get("/test/integration")

    assert response.status_code == 503
    body = response.json()
    assert set(body["parts"]) == PARTS
    assert body["status"] == "failed" and body["failed"] == ["worker"]
    worker = body["parts"]["worker"]
    assert worker["status"] == "down"
    assert "no worker ran the ping task within 0.5s" in worker["message"]
    for name in ("database", "broker", "engine", "watcher"):
        assert body["parts"][name]["status"] == "ok", body["parts"][name]
        assert body["parts"][name]["duration_ms"] >= 0
    assert probes_left() == ""


@pytest.mark.django_db
def test_the_database_part_leaves_no_row_behind(api_client: APIClient, demo_image: Any, settings: Any) -> None:
    settings.INTEGRATION_WORKER_TIMEOUT_S = 0.1

    api_client.get("/test/integration")

    assert not Heartbeat.objects.filter(component__startswith="integration-").exists()


@pytest.mark.django_db
def test_a_missing_demo_image_fails_the_engine_part(api_client: APIClient, engine_ready: None, settings: Any) -> None:
    settings.INTEGRATION_WORKER_TIMEOUT_S = 0.1
    settings.DEMO_IMAGE = "orchestrator-test/missing:never"

    body = api_client.get("/test/integration").json()

    assert body["parts"]["engine"]["status"] == "down"
    assert "orchestrator-test/missing:never is not on the engine" in body["parts"]["engine"]["message"]
    assert probes_left() == ""


def test_with_a_worker_and_a_watcher_every_part_passes(
    demo_image: Any, user: Any, orchestrator_processes: dict[str, Process], settings: Any
) -> None:
    # The worker needs a few seconds to boot; a cold start must not fail the run.
    settings.INTEGRATION_WORKER_TIMEOUT_S = 30
    wait_for(lambda: heartbeats.last_seen("watcher"), timeout=30, what="the watcher's first heartbeat")

    response = authenticated(user).get("/test/integration")

    body = response.json()
    logs = "\n".join(f"--- {name}\n{proc.log_tail()}" for name, proc in orchestrator_processes.items())
    assert response.status_code == 200, f"{body}\n{logs}"
    assert body["status"] == "passed" and body["failed"] == []
    assert all(part["status"] == "ok" for part in body["parts"].values())
    assert probes_left() == ""

    # A second run proves a fresh token each time, not the first run's heartbeat.
    settings.INTEGRATION_WORKER_TIMEOUT_S = 10
    assert authenticated(user).get("/test/integration").status_code == 200


def test_a_member_who_is_not_staff_is_refused(organization: Any) -> None:
    from conftest import make_member

    client = APIClient()
    client.force_login(make_member("vic", organization, "admin"))

    assert client.get("/test/integration").status_code == 403
