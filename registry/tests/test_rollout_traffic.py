"""Rolling updates under load through a real HAProxy and the real engine: no request fails."""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import deploy
from containers import reconcile
from containers.deployments import rollback, update_deployment
from containers.models import Container, Event
from registry import loadbalancer
from registry.models import Service, ServiceEndpoint
from registry.tests.test_loadbalancer import ready, served_by

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lb", "remove_test_containers")]

MAX_REQUESTS = 20_000  # every load loop is bounded in count and in time
MAX_SECONDS = 90.0


class Load:
    """Closed-loop clients requesting ``url`` through the load balancer until stopped; counts outcomes."""

    def __init__(self, url: str, threads: int = 3) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.ok = 0
        self.failed: list[str] = []
        self.served: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while not self._stop.is_set() and time.monotonic() < deadline and self.ok + len(self.failed) < MAX_REQUESTS:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                conn.request("GET", "/")
                answer = conn.getresponse()
                body = answer.read().decode(errors="replace")
                outcome = "" if answer.status == 200 else f"HTTP {answer.status}"
            except (OSError, http.client.HTTPException) as exc:
                body, outcome = "", f"{type(exc).__name__}: {exc}"
            finally:
                conn.close()
            with self._lock:
                if outcome:
                    self.failed.append(outcome)
                else:
                    self.ok += 1
                    if "Hello from " in body:
                        self.served.add(body.split("Hello from ", 1)[1].split("<", 1)[0])

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)


def hostnames(deployment: Any) -> set[str]:
    # The demo page names the container by its hostname: the first 12 characters of its id.
    return {
        docker_id[:12]
        for docker_id in Container.objects.filter(deployment=deployment).values_list("docker_id", flat=True)
    }


def test_a_rolling_update_of_five_replicas_under_constant_load_fails_no_request(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-lb", 5, container_port=8080)
    ready(deployment)
    url = Service.objects.get(name="roll-lb").lb_url
    old = hostnames(deployment)

    with Load(url) as load:
        time.sleep(0.5)
        update_deployment(deployment, actor="tests", env={"REVISION": "2"})
        reconcile.converge(deployment.pk)
        loadbalancer.sync()
        time.sleep(1.5)  # traffic onto the new containers only

    deployment.refresh_from_db()
    assert deployment.rollout_phase == "complete", deployment.rollout_message
    new = hostnames(deployment)
    assert len(new) == 5 and not new & old
    assert load.failed == [], f"{len(load.failed)} of {load.ok + len(load.failed)} failed: {load.failed[:5]}"
    assert load.ok > 50
    assert load.served & old and load.served & new  # both revisions answered during the update
    assert {served_by(url) for _ in range(20)} <= new
    # Each old container was drained before its removal.
    kinds = [
        (k, m) for k, m in Event.objects.filter(deployment=deployment).order_by("id").values_list("kind", "message")
    ]
    drains = [i for i, (k, m) in enumerate(kinds) if k == "endpoint.status" and "draining" in m]
    removals = [i for i, (k, _) in enumerate(kinds) if k == "container.removed"]
    assert len(drains) == len(removals) == 5 and all(d < r for d, r in zip(drains, removals, strict=True))


def test_a_broken_revision_is_rolled_back_while_the_old_containers_keep_serving(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-lb-bad", 3, container_port=8080, progress_deadline_s=4)
    ready(deployment)
    url = Service.objects.get(name="roll-lb-bad").lb_url
    old = hostnames(deployment)

    with Load(url) as load:
        time.sleep(0.5)
        # Runs, but nothing listens on the port: never ready, so it never takes traffic.
        update_deployment(deployment, actor="tests", command=["sleep", "600"])
        reconcile.converge(deployment.pk)
        time.sleep(0.5)

    deployment.refresh_from_db()
    assert deployment.rollout_phase == "rolled_back", deployment.rollout_message
    assert hostnames(deployment) == old
    assert load.failed == [], f"{len(load.failed)} failed: {load.failed[:5]}"
    assert load.served == old
    # The new container's endpoint never took traffic: it was registered unknown, then removed.
    statuses = Event.objects.filter(deployment=deployment, kind="endpoint.registered").order_by("-id")
    assert statuses.first().after["status"] == "unknown"


def test_a_rollback_goes_through_the_rolling_path_under_load(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-lb-back", 2, container_port=8080)
    ready(deployment)
    update_deployment(deployment, actor="tests", env={"REVISION": "2"})
    reconcile.converge(deployment.pk)
    loadbalancer.sync()
    url = Service.objects.get(name="roll-lb-back").lb_url

    with Load(url) as load:
        time.sleep(0.5)
        rollback(deployment, actor="tests")
        reconcile.converge(deployment.pk)
        loadbalancer.sync()
        time.sleep(1.0)

    deployment.refresh_from_db()
    assert (deployment.rollout_phase, deployment.generation, deployment.env) == ("rolled_back", 3, {})
    assert load.failed == []
    assert ServiceEndpoint.objects.filter(service="roll-lb-back", status="healthy").count() == 2
