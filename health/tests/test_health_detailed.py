"""GET /health/detailed: each component's status, latency and detail; 503 unless all are ok."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from containers import engine
from orchestrator_site.celery import app as celery_app
from orchestrator_site.processes import heartbeats
from orchestrator_site.processes.models import Heartbeat

pytestmark = pytest.mark.django_db

COMPONENTS = {"database", "broker", "worker", "beat", "watcher", "engine", "sampler", "loadbalancer"}


@pytest.fixture
def unreachable_engine(settings: Any) -> Iterator[None]:
    """Point the engine client at a socket nobody listens on: a real engine that does not answer."""
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    yield
    settings.DOCKER_HOST = ""  # restored by the settings fixture too, but the client must be rebuilt
    engine.reset_client()


@pytest.fixture
def unreachable_broker() -> Iterator[None]:
    """Point the Celery app's publishing connection at a port nobody listens on."""
    before = celery_app.conf.broker_write_url
    celery_app.conf.broker_write_url = "redis://127.0.0.1:9/0"
    yield
    celery_app.conf.broker_write_url = before


def all_alive() -> None:
    for component in ("worker", "beat", "watcher", "sampler"):
        heartbeats.beat(component)


def test_it_refuses_anonymous_users(anon_client: APIClient) -> None:
    assert anon_client.get("/health/detailed").status_code in (401, 403)


def test_it_refuses_post(api_client: APIClient) -> None:
    assert api_client.post("/health/detailed").status_code == 405


def test_it_says_which_processes_are_down_when_none_runs(api_client: APIClient, engine_ready: None) -> None:
    response = api_client.get("/health/detailed")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert set(body["components"]) == COMPONENTS
    components = body["components"]
    for name in ("database", "broker", "engine"):
        assert components[name]["status"] == "ok", components[name]
    for name in ("worker", "beat", "watcher"):
        assert components[name]["status"] == "down"
        assert "no heartbeat" in components[name]["detail"]
    assert components["sampler"]["status"] == "down"
    assert "no sampling round" in components["sampler"]["detail"]
    assert sorted(body["failing"]) == ["beat", "sampler", "watcher", "worker"]


def test_it_is_ok_when_every_component_is(api_client: APIClient, engine_ready: None) -> None:
    all_alive()

    response = api_client.get("/health/detailed")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    for check in body["components"].values():
        assert check["status"] == "ok"
        assert isinstance(check["latency_ms"], float)
    assert "Docker " in body["components"]["engine"]["detail"]


def test_a_stale_heartbeat_counts_as_down(api_client: APIClient, settings: Any, engine_ready: None) -> None:
    settings.HEARTBEAT_STALE_S = 30
    all_alive()
    Heartbeat.objects.filter(component="watcher").update(seen_at=timezone.now() - timedelta(seconds=95))

    body = api_client.get("/health/detailed").json()

    assert body["components"]["watcher"]["status"] == "down"
    assert "95s ago" in body["components"]["watcher"]["detail"]
    assert body["failing"] == ["watcher"]


def test_an_engine_that_does_not_answer_is_down_and_so_is_the_whole(
    api_client: APIClient, unreachable_engine: None
) -> None:
    all_alive()

    response = api_client.get("/health/detailed")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["engine"]["status"] == "down"
    assert "does not answer" in body["components"]["engine"]["detail"]
    assert body["failing"] == ["engine"]


def test_a_broker_that_does_not_answer_is_down(
    api_client: APIClient, unreachable_broker: None, engine_ready: None
) -> None:
    all_alive()

    response = api_client.get("/health/detailed")

    assert response.status_code == 503
    body = response.json()
    assert body["components"]["broker"]["status"] == "down"
    assert body["status"] == "degraded"
    assert body["failing"] == ["broker"]
