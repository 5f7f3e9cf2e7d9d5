"""GET /health/detailed: each component's status, latency and detail; 503 unless all are ok."""

from __future__ import annotations

import re
import socket
import socketserver
import threading
import time
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


class SlowInfoProxy(socketserver.ThreadingTCPServer):
    """The real engine's socket behind a port on 127.0.0.1 that holds every ``info`` request for a while,
    as a busy engine does, and passes everything else (pings among them) at once."""

    daemon_threads = True
    allow_reuse_address = True
    hold_s = 6.0


class _Forward(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect("/var/run/docker.sock")

        def answers() -> None:
            while data := upstream.recv(65536):
                self.request.sendall(data)

        threading.Thread(target=answers, daemon=True).start()
        try:
            while data := self.request.recv(65536):
                if re.match(rb"GET /(v[\d.]+/)?info\b", data):
                    time.sleep(SlowInfoProxy.hold_s)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()


@pytest.fixture
def slow_info_engine(settings: Any, engine_ready: None) -> Iterator[None]:
    server = SlowInfoProxy(("127.0.0.1", 0), _Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.DOCKER_HOST = f"tcp://127.0.0.1:{server.server_address[1]}"
    engine.reset_client()
    yield
    settings.DOCKER_HOST = ""
    engine.reset_client()
    server.shutdown()
    server.server_close()


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


def test_an_engine_that_answers_its_ping_but_is_slow_with_its_info_is_not_down(
    api_client: APIClient, slow_info_engine: None
) -> None:
    all_alive()

    began = time.monotonic()
    response = api_client.get("/health/detailed")

    assert time.monotonic() - began < SlowInfoProxy.hold_s  # it did not wait for the held info
    body = response.json()
    assert body["components"]["engine"]["status"] == "ok", body["components"]["engine"]
    assert "busy" in body["components"]["engine"]["detail"]
    assert response.status_code == 200 and body["status"] == "ok"


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
