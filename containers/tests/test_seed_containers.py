"""The seed's container paths, on the real engine: ``GET /containers``, ``POST /containers/{image}/start``,
``POST /containers/{image}/stop``, ``DELETE /containers/{id}``."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from rest_framework.test import APIClient

from conftest import TEST_IMAGE_PREFIX, docker_cli, wait_for
from containers import engine
from containers.models import Container, Deployment, Event, Image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


SMALL = {"cpu_limit": "0.1", "memory_limit": "16m"}


def managed() -> list[engine.ContainerInfo]:
    """Every container of this test run on the engine."""
    return engine.list_containers(engine.instance_labels())


def page(port: int) -> str:
    def fetch() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return response.read().decode()
        except OSError:
            return None

    return wait_for(fetch, timeout=15, what=f"a page on 127.0.0.1:{port}")


def start(api_client: APIClient, image: str, body: dict[str, Any]) -> Any:
    return api_client.post(f"/containers/{image}/start", body, format="json")


def test_the_seed_lifecycle_start_list_delete_stop(api_client: APIClient, demo_image: Image) -> None:
    ref = demo_image.reference
    started = start(api_client, ref, {"count": 2, "resources": SMALL, "port": 8080})

    assert started.status_code == 201, started.json()
    body = started.json()
    assert len(body["started"]) == 2 and body["failed"] == []
    assert {c["id"] for c in body["containers"]} == set(body["started"]) == {c.id for c in managed()}
    assert body["deployment"]["replicas"] == 2 and body["deployment"]["memory_limit"] == "16m"
    for container in body["containers"]:
        assert container["status"] == "running" and container["url"] == f"http://127.0.0.1:{container['host_port']}/"
        assert container["id"][:12] in page(container["host_port"])

    listed = api_client.get("/containers")
    assert listed.status_code == 200 and listed.json()["total"] == 2
    rows = {row["id"]: row for row in listed.json()["containers"]}
    assert set(rows) == set(body["started"])
    for row in rows.values():
        assert (row["image"], row["deployment"], row["status"]) == (ref, "orchestrator-demo-latest", "running")
        assert row["url"] == f"http://127.0.0.1:{row['host_port']}/" and row["created"]
        assert row["ports"] == {"8080/tcp": row["host_port"]}
        assert row["resources"] == {"cpu_limit": "0.1", "memory_limit": "16m"}

    victim, survivor = body["started"]
    deleted = api_client.delete(f"/containers/{victim[:12]}")
    assert deleted.status_code == 200
    assert deleted.json() | {"name": None} == {
        "deleted": True,
        "container_id": victim,
        "name": None,
        "deployment": "orchestrator-demo-latest",
        "replicas": 1,
    }
    assert [c.id for c in managed()] == [survivor]
    assert api_client.delete(f"/containers/{victim}").status_code == 404

    stopped = api_client.post(f"/containers/{ref}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["stopped"] is True and stopped.json()["containers"] == [survivor]
    assert stopped.json()["deployments"][0]["replicas"] == 0
    assert managed() == []
    listed = api_client.get("/containers").json()
    assert listed.pop("engine")["available"] is True
    assert listed == {"containers": [], "total": 0, "limit": 500, "offset": 0}


def test_each_seed_change_is_an_event_of_the_user(api_client: APIClient, demo_image: Image) -> None:
    ref = demo_image.reference
    [first] = start(api_client, ref, {"count": 1, "resources": SMALL}).json()["started"]
    start(api_client, ref, {"count": 1, "resources": SMALL})
    api_client.delete(f"/containers/{first}")
    api_client.post(f"/containers/{ref}/stop")

    mine = Event.objects.filter(actor="alice")
    assert mine.get(kind="deployment.created").after["replicas"] == 1
    updated = mine.get(kind="deployment.updated")
    assert (updated.before["replicas"], updated.after["replicas"]) == (1, 2)
    deleted = mine.get(kind="container.deleted")
    assert (deleted.container_docker_id, deleted.before, deleted.after) == (first, {"replicas": 2}, {"replicas": 1})
    assert mine.get(kind="deployment.stopped").after == {"replicas": 0}


def test_a_second_start_adds_to_the_image_s_deployment(api_client: APIClient, demo_image: Image) -> None:
    ref = demo_image.reference
    first = start(api_client, ref, {"count": 1, "resources": SMALL}).json()
    second = start(api_client, ref, {"count": 2, "resources": SMALL}).json()

    assert second["deployment"]["id"] == first["deployment"]["id"] and second["deployment"]["replicas"] == 3
    assert len(second["started"]) == 2 and not set(second["started"]) & set(first["started"])
    assert len(managed()) == 3


def test_new_limits_on_a_later_start_recreate_the_running_containers(api_client: APIClient, demo_image: Image) -> None:
    ref = demo_image.reference
    first = start(api_client, ref, {"count": 1, "resources": SMALL}).json()

    second = start(api_client, ref, {"count": 1, "resources": {"cpu_limit": 0.2, "memory_limit": "24m"}}).json()

    assert len(second["started"]) == 2 and first["started"][0] not in second["started"]
    assert {engine.inspect_container(c.id).memory_limit_bytes for c in managed()} == {24 * 1024**2}


def test_stop_with_the_seed_s_instance_id_stops_only_that_one(api_client: APIClient, demo_image: Image) -> None:
    ref = demo_image.reference
    one, other = start(api_client, ref, {"count": 2, "resources": SMALL}).json()["started"]

    response = api_client.post(f"/containers/{ref}/stop", {"instanceId": one[:12]}, format="json")

    assert response.status_code == 200 and response.json()["containers"] == [one]
    assert [c.id for c in managed()] == [other]
    assert Deployment.objects.get(name="orchestrator-demo-latest").replicas == 1


def test_delete_finds_a_container_by_name_or_row_id(api_client: APIClient, demo_image: Image) -> None:
    start(api_client, demo_image.reference, {"count": 2, "resources": SMALL})
    by_name, by_pk = Container.objects.order_by("pk")

    assert api_client.delete(f"/containers/{by_name.name}").status_code == 200
    assert api_client.delete(f"/containers/{by_pk.pk}").status_code == 200
    assert managed() == []


@pytest.fixture
def slashed_image(demo_image: Image) -> Iterator[Image]:
    """The demo image under a name with a path and a tag, as registry images have."""
    reference = f"{TEST_IMAGE_PREFIX}team/app:1.2"
    docker_cli("tag", demo_image.reference, reference)
    yield Image.objects.create(reference=reference)
    for info in managed():
        engine.remove_container(info.id)
    docker_cli("rmi", reference)


def test_an_image_name_with_slashes_and_a_tag_is_taken_whole(api_client: APIClient, slashed_image: Image) -> None:
    ref = slashed_image.reference

    started = start(api_client, ref, {"count": 1, "resources": SMALL})

    assert started.status_code == 201, started.json()
    assert started.json()["deployment"]["image"] == ref
    assert started.json()["deployment"]["name"] == "orchestrator-test-team-app-1-2"
    assert api_client.post(f"/containers/{ref}/stop/").status_code == 200
    assert managed() == []


def test_paths_with_a_registry_port_resolve_to_the_whole_reference() -> None:
    assert resolve("/containers/registry:5000/team/app:1.2/start").kwargs == {"image": "registry:5000/team/app:1.2"}
    assert resolve("/containers/registry:5000/team/app:1.2/stop/").kwargs == {"image": "registry:5000/team/app:1.2"}
    assert resolve("/containers/0123456789ab").url_name == "seed-container"
    assert resolve("/containers").url_name == "seed-containers"


def test_the_instance_health_path_still_belongs_to_the_health_app() -> None:
    match = resolve("/containers/instances/0123456789ab/health")

    assert match.url_name == "container-instance-health"
    assert match.func.__module__.startswith("health.")


def test_a_start_where_no_container_can_start_is_a_502_with_the_reason(
    api_client: APIClient, engine_ready: None
) -> None:
    Image.objects.create(reference=f"{TEST_IMAGE_PREFIX}not-on-the-engine:1")

    response = start(api_client, f"{TEST_IMAGE_PREFIX}not-on-the-engine:1", {"count": 1, "resources": SMALL})

    assert response.status_code == 502
    assert response.json()["started"] == [] and response.json()["failed"]
    assert response.json()["error"].startswith("no container started")
    assert managed() == []


def test_unknown_images_and_containers_are_json_404s(api_client: APIClient, engine_ready: None) -> None:
    unknown_start = start(api_client, "registry:5000/team/nothing:1", {"count": 1})
    unknown_stop = api_client.post("/containers/registry:5000/team/nothing:1/stop")
    unknown_id = api_client.delete("/containers/0123456789abcdef")

    assert unknown_start.status_code == 404 and "image" in unknown_start.json()["fields"]
    assert unknown_stop.status_code == 404 and "image" in unknown_stop.json()["fields"]
    assert unknown_id.status_code == 404 and "id" in unknown_id.json()["fields"]
    assert not Deployment.objects.exists()


def test_the_list_takes_as_many_queries_for_50_containers_as_for_2(api_client: APIClient, engine_ready: None) -> None:
    image = Image.objects.create(reference=f"{TEST_IMAGE_PREFIX}listing:1")

    def add(prefix: str, deployments: int, each: int) -> None:
        made = Deployment.objects.bulk_create(
            Deployment(name=f"{prefix}-{i}", image=image, replicas=each, memory_limit_bytes=16 * 1024**2)
            for i in range(deployments)
        )
        Container.objects.bulk_create(
            Container(
                deployment=d,
                organization_id=d.organization_id,
                docker_id=f"{d.pk:032x}{n:032x}",
                name=f"{d.name}-{n}",
                status="running",
            )
            for d in made
            for n in range(each)
        )

    add("few", 1, 2)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get("/containers").json()["total"] == 2
    add("many", 6, 8)
    with CaptureQueriesContext(connection) as many:
        assert api_client.get("/containers").json()["total"] == 50

    assert len(many) == len(few)


def test_started_containers_are_listed_by_the_seeds_docker_ps_filter(api_client: APIClient, demo_image: Image) -> None:
    started = start(api_client, demo_image.reference, {"count": 1, "resources": SMALL})
    assert started.status_code == 201, started.json()

    # The prototype's troubleshooting line, narrowed to this test run's containers.
    listed = docker_cli(
        "ps", "-q", "--no-trunc", "--filter", "label=managed-by", "--filter",
        f"label={engine.LABEL_INSTANCE}={engine.instance_labels()[engine.LABEL_INSTANCE]}",
    )  # fmt: skip

    assert listed.split() == started.json()["started"]
    assert docker_cli("inspect", "-f", '{{ index .Config.Labels "managed-by" }}', listed.split()[0]) == "orchestrator"
