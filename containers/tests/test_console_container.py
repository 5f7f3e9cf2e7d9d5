"""The console's container page ``/console/containers/<pk>/``: facts from the engine, the log tail that
follows, restart, remove after a confirmation, its events; a vanished container or a down engine."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from conftest import docker_cli, wait_for
from containers import engine, reconcile
from containers.deployments import create_deployment
from containers.models import Container, Deployment, Event, Image

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# Prints numbered lines, then idles, so the log tail has something to show.
CHATTY = ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do echo line-$i; done; exec sleep 3600"]


@pytest.fixture(autouse=True)
def _remove_this_run_s_containers() -> Iterator[None]:
    """The database rolls back after each test but the engine does not: remove what the test started."""
    yield
    for info in engine.list_containers(engine.instance_labels()):
        engine.remove_container(info.id)


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def running(demo_image: Image, name: str, replicas: int = 1) -> Deployment:
    deployment = create_deployment(
        actor="tests",
        name=name,
        image=demo_image,
        replicas=replicas,
        cpu_limit=Decimal("0.1"),
        memory_limit_bytes=16 * 1024**2,
        container_port=8080,
        command=CHATTY,
    )
    reconcile.converge(deployment.pk)
    return deployment


def only_container(deployment: Deployment) -> Container:
    [container] = Container.objects.filter(deployment=deployment)
    return container


def logged_all_lines(container: Container) -> bool:
    return "line-10" in engine.container_logs(container.docker_id)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/console/containers/1/"),
        ("get", "/console/containers/1/log/"),
        ("post", "/console/containers/1/restart/"),
        ("get", "/console/containers/1/remove/"),
        ("post", "/console/containers/1/remove/"),
    ],
)
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_shows_state_image_limits_labels_port_and_the_log_tail(alice: Client, demo_image: Image) -> None:
    deployment = running(demo_image, "ctr-page")
    container = only_container(deployment)
    wait_for(lambda: logged_all_lines(container), timeout=10, what="the container's output")
    detail = engine.inspect_container(container.docker_id)

    response = alice.get(f"/console/containers/{container.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert container.name in body and "running" in body
    assert demo_image.reference in body
    assert "0.1 cores" in body and "16m" in body
    assert f'href="http://127.0.0.1:{detail.info.host_port}/"' in body
    assert f"orchestrator.deployment</code></th><td><code>{deployment.pk}<" in body
    assert "line-1\n" in body and "line-10" in body
    assert 'hx-trigger="every 2s"' in body and f'hx-get="/console/containers/{container.pk}/log/"' in body


def test_the_log_partial_answers_htmx_with_the_latest_lines(alice: Client, demo_image: Image) -> None:
    container = only_container(running(demo_image, "ctr-log"))
    wait_for(lambda: logged_all_lines(container), timeout=10, what="the container's output")

    partial = alice.get(f"/console/containers/{container.pk}/log/", headers=HTMX)
    direct = alice.get(f"/console/containers/{container.pk}/log/")

    assert partial.status_code == 200
    assert "line-10" in partial.content.decode() and "<html" not in partial.content.decode()
    assert direct.status_code == 302 and direct["Location"] == f"/console/containers/{container.pk}/"


def test_restart_restarts_it_on_the_engine_and_logs_who(alice: Client, demo_image: Image) -> None:
    container = only_container(running(demo_image, "ctr-restart"))
    started = engine.inspect_container(container.docker_id).started_at

    response = alice.post(f"/console/containers/{container.pk}/restart/")

    assert response.status_code == 302 and response["Location"] == f"/console/containers/{container.pk}/"
    after = engine.inspect_container(container.docker_id)
    assert after.info.running and after.started_at is not None and started is not None
    assert after.started_at > started
    event = Event.objects.get(kind="container.restarted")
    assert (event.actor, event.container_docker_id) == ("alice", container.docker_id)
    page = alice.get(response["Location"]).content.decode()
    assert f"Restarted {container.name}." in page
    assert after.started_at.strftime("%Y-%m-%d %H:%M:%S") in page


def test_remove_asks_first_then_removes_it_for_good(alice: Client, demo_image: Image) -> None:
    deployment = running(demo_image, "ctr-remove", replicas=2)
    victim = Container.objects.filter(deployment=deployment).first()
    assert victim is not None

    confirm = alice.get(f"/console/containers/{victim.pk}/remove/")

    assert confirm.status_code == 200
    assert "2 → 1" in confirm.content.decode()
    assert engine.inspect_container(victim.docker_id).info.running  # asking removes nothing

    response = alice.post(f"/console/containers/{victim.pk}/remove/")

    assert response.status_code == 302 and response["Location"] == f"/deployments/{deployment.pk}/"
    with pytest.raises(engine.ContainerNotFound):
        engine.inspect_container(victim.docker_id)
    assert not Container.objects.filter(pk=victim.pk).exists()
    deployment.refresh_from_db()
    assert deployment.replicas == 1
    event = Event.objects.get(kind="container.deleted")
    assert (event.actor, event.container_docker_id) == ("alice", victim.docker_id)


def test_it_lists_the_container_s_events(alice: Client, demo_image: Image) -> None:
    container = only_container(running(demo_image, "ctr-events"))
    alice.post(f"/console/containers/{container.pk}/restart/")

    body = alice.get(f"/console/containers/{container.pk}/").content.decode()

    assert "container.restarted" in body and f"{container.name} restarted" in body


def test_a_container_removed_behind_its_back_is_a_404_page_with_a_way_back(alice: Client, demo_image: Image) -> None:
    deployment = running(demo_image, "ctr-gone")
    container = only_container(deployment)
    docker_cli("rm", "-f", container.docker_id)

    page = alice.get(f"/console/containers/{container.pk}/")
    log = alice.get(f"/console/containers/{container.pk}/log/", headers=HTMX)

    assert page.status_code == 404
    assert "This container is gone" in page.content.decode()
    assert f'href="/deployments/{deployment.pk}/"' in page.content.decode()
    assert log.status_code == 286  # htmx stops polling
    assert "stopped following" in log.content.decode()


def test_an_unknown_container_is_a_404_page(alice: Client) -> None:
    response = alice.get("/console/containers/999999/")

    assert response.status_code == 404
    assert 'href="/"' in response.content.decode()
    assert alice.post("/console/containers/999999/restart/").status_code == 404
    assert alice.get("/console/containers/999999/remove/").status_code == 404


def test_it_answers_503_when_the_engine_is_down(alice: Client, demo_image: Image, settings: Any) -> None:
    container = only_container(running(demo_image, "ctr-down"))
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    try:
        response = alice.get(f"/console/containers/{container.pk}/")
    finally:
        settings.DOCKER_HOST = ""
        engine.reset_client()

    assert response.status_code == 503
    assert "The Docker engine is not answering" in response.content.decode()


def test_wrong_methods_are_refused(alice: Client) -> None:
    assert alice.post("/console/containers/1/").status_code == 405
    assert alice.get("/console/containers/1/restart/").status_code == 405
