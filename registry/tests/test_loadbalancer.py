"""HAProxy fed by the registry, against a real HAProxy and the real engine."""

from __future__ import annotations

import collections
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import deploy, wait_for
from containers import reconcile
from containers.deployments import delete_deployment, scale
from containers.models import Event
from registry import haproxy, loadbalancer, tasks
from registry.models import Service, ServiceEndpoint
from registry.tests.conftest import fetch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lb", "remove_test_containers")]


def served_by(url: str) -> str:
    status, body = fetch(url)
    assert status == 200, body
    return body.split("<h1>Hello from ", 1)[1].split("<", 1)[0]


def ready(deployment: Any) -> None:
    """Converge, push to HAProxy, and wait until every container answers through it (httpd starts
    a moment after its container; HAProxy's checks mark it up within a second)."""
    reconcile.converge(deployment.pk)
    loadbalancer.sync()
    service = Service.objects.get(name=deployment.name)
    names = set(deployment.containers.values_list("docker_id", flat=True))
    wait_for(
        lambda: len({served_by(service.lb_url) for _ in range(2 * len(names))}) == len(names),
        timeout=20,
        what="every replica to answer through the load balancer",
    )


def test_it_spreads_traffic_across_the_replicas(demo_image: Any) -> None:
    deployment = deploy(demo_image, "lb-spread", 3, container_port=8080)
    ready(deployment)
    url = Service.objects.get(name="lb-spread").lb_url

    counts = collections.Counter(served_by(url) for _ in range(60))

    assert len(counts) == 3
    assert all(15 <= n <= 25 for n in counts.values()), counts
    assert loadbalancer.differences() == []


def test_a_deployment_with_a_port_is_a_service_on_a_stable_loopback_port(demo_image: Any) -> None:
    deployment = deploy(demo_image, "lb-stable", 1, container_port=8080)
    ready(deployment)
    service = Service.objects.get(name="lb-stable")
    assert service.lb_url == f"http://127.0.0.1:{service.frontend_port}/"
    assert 0 <= service.frontend_port - __import__("django.conf").conf.settings.LB_PORT_MIN < 20

    delete_deployment(deployment, actor="tests")
    tasks.loadbalancer_tick()
    service.refresh_from_db()
    assert service.retired_at is not None
    assert "fe_lb-stable" not in haproxy.runtime("show stat")

    other = deploy(demo_image, "lb-other", 1, container_port=8080)
    again = deploy(demo_image, "lb-stable", 1, container_port=8080)
    assert Service.objects.get(name="lb-other").frontend_port != service.frontend_port
    assert Service.objects.get(name="lb-stable").frontend_port == service.frontend_port
    ready(again)
    ready(other)


def test_endpoint_changes_go_through_the_runtime_api_and_a_new_service_reloads(demo_image: Any) -> None:
    deployment = deploy(demo_image, "lb-runtime", 1, container_port=8080)
    ready(deployment)
    pid = haproxy.worker_pid()

    scale(deployment, 3, actor="tests")
    reconcile.converge(deployment.pk)
    report = loadbalancer.sync()

    assert not report.reloaded and report.commands
    assert haproxy.worker_pid() == pid
    assert loadbalancer.differences() == []
    ready(deployment)

    added = deploy(demo_image, "lb-added", 1, container_port=8080)
    reconcile.converge(added.pk)
    report = loadbalancer.sync()

    assert report.reloaded and haproxy.worker_pid() != pid
    assert loadbalancer.differences() == []
    ready(added)
    ready(deployment)


def test_a_killed_haproxy_is_back_and_in_sync_after_one_tick(demo_image: Any) -> None:
    deployment = deploy(demo_image, "lb-killed", 2, container_port=8080)
    ready(deployment)
    master = haproxy.master_pid()
    assert master is not None

    os.kill(master, signal.SIGKILL)
    wait_for(lambda: not haproxy.alive(), timeout=5, what="HAProxy to die")
    tasks.loadbalancer_tick()

    assert haproxy.alive() and haproxy.master_pid() != master
    assert loadbalancer.differences() == []
    ready(deployment)


class _Named(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<h1>Hello from external</h1>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def external_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Named)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_external_endpoint_registered_through_the_seed_path_takes_traffic_while_healthy(
    api_client: APIClient, external_server: int
) -> None:
    created = api_client.post(
        "/registry/endpoints", {"service": "billing", "host": "127.0.0.1", "port": external_server}, format="json"
    )
    assert created.status_code == 201, created.content
    loadbalancer.sync()
    url = Service.objects.get(name="billing").lb_url
    assert fetch(url)[0] == 503  # registered, status unknown: no traffic yet

    api_client.put(f"/registry/endpoints/{created.json()['id']}/status", {"status": "healthy"}, format="json")
    loadbalancer.sync()
    wait_for(lambda: fetch(url)[0] == 200, timeout=10, what="the external endpoint to take traffic")
    assert served_by(url) == "external"

    api_client.put(f"/registry/endpoints/{created.json()['id']}/status", {"status": "unhealthy"}, format="json")
    report = loadbalancer.sync()
    assert not report.reloaded
    assert fetch(url)[0] == 503
    assert loadbalancer.differences() == []


def test_an_endpoint_on_a_frontend_port_is_refused(api_client: APIClient, external_server: int) -> None:
    api_client.post("/registry/endpoints", {"service": "front", "host": "127.0.0.1", "port": external_server})
    port = Service.objects.get(name="front").frontend_port

    response = api_client.post(
        "/registry/endpoints", {"service": "loop", "host": "127.0.0.1", "port": port}, format="json"
    )

    assert response.status_code == 409
    assert "port" in response.json()["fields"]
    assert not ServiceEndpoint.objects.filter(service="loop").exists()
    assert not Service.objects.filter(name="loop").exists()


def test_health_detailed_says_when_haproxy_is_down_and_it_recovers_by_itself(
    api_client: APIClient, external_server: int
) -> None:
    api_client.post("/registry/endpoints", {"service": "watched", "host": "127.0.0.1", "port": external_server})
    loadbalancer.sync()
    assert api_client.get("/health/detailed").json()["components"]["loadbalancer"]["status"] == "ok"

    haproxy.stop()
    component = api_client.get("/health/detailed").json()["components"]["loadbalancer"]
    assert component["status"] == "down" and "does not answer" in component["detail"]

    tasks.loadbalancer_tick()
    assert api_client.get("/health/detailed").json()["components"]["loadbalancer"]["status"] == "ok"


# The demo image's httpd with a CGI that answers after 2 s: a slow request to be in flight during a stop.
SLOW = [
    "/bin/sh",
    "-c",
    "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\nsleep 2\\necho Content-Type: text/plain\\necho\\necho slow\\n'"
    " > /www/cgi-bin/slow && chmod +x /www/cgi-bin/slow && exec httpd -f -p 8080 -h /www",
]


def test_a_drained_container_finishes_its_in_flight_slow_request_before_it_stops(
    demo_image: Any, settings: Any
) -> None:
    settings.LB_DRAIN_TIMEOUT_S = 20
    deployment = deploy(demo_image, "lb-drain", 1, container_port=8080, command=SLOW)
    loadbalancer.sync()
    url = Service.objects.get(name="lb-drain").lb_url + "cgi-bin/slow"
    wait_for(lambda: fetch(url)[0] == 200, timeout=20, what="the slow CGI to answer through the load balancer")
    answers: list[tuple[int, str]] = []
    slow = threading.Thread(target=lambda: answers.append(fetch(url, timeout=20)))
    slow.start()
    time.sleep(0.5)  # the request is in flight

    scale(deployment, 0, actor="tests")
    reconcile.converge(deployment.pk)
    slow.join(timeout=20)

    assert answers == [(200, "slow\n")]
    kinds = list(Event.objects.filter(deployment=deployment).order_by("id").values_list("kind", "message"))
    drained = next(i for i, (kind, message) in enumerate(kinds) if kind == "endpoint.status" and "draining" in message)
    removed = next(i for i, (kind, _) in enumerate(kinds) if kind == "container.removed")
    assert drained < removed


def test_with_a_supervisor_starting_haproxy_a_sync_writes_the_config_it_starts_on(settings: Any) -> None:
    """HAPROXY_START=never (make run's supervisord, compose's haproxy service): no HAProxy of ours is
    started, but the registry's config is written for the one the supervisor starts."""
    from registry import endpoints

    settings.HAPROXY_START = "never"
    endpoints.register(service="supervised", host="127.0.0.1", port=9501, actor="tests", status="healthy")
    service = Service.objects.get(name="supervised")

    with pytest.raises(haproxy.LoadBalancerDown):
        loadbalancer.sync()

    assert not haproxy.alive()
    config = haproxy.config_path().read_text()
    assert f"bind 127.0.0.1:{service.frontend_port}" in config and "127.0.0.1:9501 check" in config
