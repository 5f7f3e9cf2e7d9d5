"""``/api/containers/``: list, show, restart, read the logs of and remove the containers that run."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import deploy, on_engine, wait_for
from containers import engine, reconcile
from containers.models import Container, Deployment, Event, Image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


# Prints numbered lines, then idles, so the logs have something to tail.
CHATTY = ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do echo line-$i; done; exec sleep 3600"]


def test_it_lists_the_containers_with_their_deployment_image_and_url(api_client: APIClient, demo_image: Image) -> None:
    deployment = deploy(demo_image, "ctr-list", 2, container_port=8080)

    response = api_client.get("/api/containers/")

    rows = response.json()["results"]
    assert response.status_code == 200 and len(rows) == 2
    assert {row["docker_id"] for row in rows} == {c.id for c in on_engine(deployment)}
    for row in rows:
        assert row["deployment"] == deployment.pk and row["deployment_name"] == "ctr-list"
        assert row["image"] == demo_image.reference and row["status"] == "running"
        assert row["url"] == f"http://127.0.0.1:{row['host_port']}/"
        assert row["short_id"] == row["docker_id"][:12]


def test_it_filters_by_deployment_and_status(api_client: APIClient) -> None:
    first, second = make_containers(2, per_deployment=1)
    Container.objects.filter(deployment=second).update(status=Container.Status.EXITED)

    by_deployment = api_client.get(f"/api/containers/?deployment={first.pk}").json()["results"]
    exited = api_client.get("/api/containers/?status=exited").json()["results"]

    assert [row["deployment"] for row in by_deployment] == [first.pk]
    assert [row["deployment"] for row in exited] == [second.pk]
    assert api_client.get("/api/containers/?deployment=999999").status_code == 400
    assert api_client.get("/api/containers/?status=asleep").status_code == 400


def test_restart_restarts_it_on_the_engine_and_records_who(api_client: APIClient, demo_image: Image) -> None:
    # Quits on SIGTERM, so the restart need not wait out Docker's stop timeout.
    deployment = deploy(
        demo_image, "ctr-restart", command=["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    )
    container = Container.objects.get(deployment=deployment)
    started = engine.inspect_container(container.docker_id).started_at

    response = api_client.post(f"/api/containers/{container.pk}/restart/")

    assert response.status_code == 200 and response.json()["docker_id"] == container.docker_id
    detail = engine.inspect_container(container.docker_id)
    assert detail.info.running and detail.started_at != started
    event = Event.objects.get(kind="container.restarted")
    assert event.actor == "alice" and event.container_docker_id == container.docker_id


def test_logs_answer_the_last_lines_asked_for(api_client: APIClient, demo_image: Image) -> None:
    deployment = deploy(demo_image, "ctr-logs", command=CHATTY)
    container = Container.objects.get(deployment=deployment)

    def tail() -> str | None:
        logs = api_client.get(f"/api/containers/{container.pk}/logs/?tail=3").json()["logs"]
        return logs if "line-10" in logs else None

    logs = wait_for(tail, what="the container's output")
    assert logs.split() == ["line-8", "line-9", "line-10"]
    everything = api_client.get(f"/api/containers/{container.pk}/logs/").json()
    assert everything["tail"] == 200 and everything["logs"].split()[0] == "line-1"


@pytest.mark.parametrize("tail", ["0", "-1", "5001", "many"])
def test_logs_refuse_a_tail_out_of_bounds(api_client: APIClient, tail: str) -> None:
    [container] = containers_of(make_containers(1))

    response = api_client.get(f"/api/containers/{container.pk}/logs/?tail={tail}")

    assert response.status_code == 400 and "tail" in response.json()["fields"]


def test_delete_removes_it_for_good_and_the_deployment_wants_one_fewer(
    api_client: APIClient, demo_image: Image
) -> None:
    deployment = deploy(demo_image, "ctr-delete", 2)
    victim = Container.objects.filter(deployment=deployment).first()
    assert victim is not None

    response = api_client.delete(f"/api/containers/{victim.pk}/")

    assert response.status_code == 204
    assert victim.docker_id not in {c.id for c in on_engine(deployment)}
    assert not Container.objects.filter(pk=victim.pk).exists()
    deployment.refresh_from_db()
    assert deployment.replicas == 1
    event = Event.objects.get(kind="container.deleted")
    assert (event.actor, event.before, event.after) == ("alice", {"replicas": 2}, {"replicas": 1})
    reconcile.converge(deployment.pk)
    assert len(on_engine(deployment)) == 1  # not replaced


def test_an_unknown_container_is_a_json_404(api_client: APIClient) -> None:
    for response in (
        api_client.get("/api/containers/999999/"),
        api_client.get("/api/containers/not-a-number/"),
        api_client.post("/api/containers/999999/restart/"),
        api_client.get("/api/containers/999999/logs/"),
        api_client.delete("/api/containers/999999/"),
    ):
        assert response.status_code == 404 and "error" in response.json()


def test_the_list_takes_as_many_queries_for_50_rows_as_for_2(api_client: APIClient) -> None:
    make_containers(1, per_deployment=2, prefix="few")
    with CaptureQueriesContext(connection) as few:
        assert api_client.get("/api/containers/").json()["count"] == 2
    make_containers(6, per_deployment=8, prefix="many")
    with CaptureQueriesContext(connection) as many:
        response = api_client.get("/api/containers/")

    assert response.json()["count"] == 50 and len(response.json()["results"]) == 50
    assert len(many) == len(few)


def make_containers(deployments: int, *, per_deployment: int = 1, prefix: str = "rows") -> list[Deployment]:
    """Rows only (no engine): the list shows the database mirror."""
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/rows:1")
    made = Deployment.objects.bulk_create(
        Deployment(name=f"{prefix}-{i}", image=image, replicas=per_deployment, memory_limit_bytes=16 * 1024**2)
        for i in range(deployments)
    )
    Container.objects.bulk_create(
        Container(
            deployment=d,
            organization_id=d.organization_id,
            docker_id=f"{d.pk:032x}{n:032x}",
            name=f"{d.name}-{n}",
            status="running",
            host_port=40000 + n,
        )
        for d in made
        for n in range(per_deployment)
    )
    return made


def containers_of(deployments: list[Deployment]) -> list[Container]:
    return list(Container.objects.filter(deployment__in=deployments))
