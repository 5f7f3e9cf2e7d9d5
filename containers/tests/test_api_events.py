"""``/api/events/``: the append-only event log, read-only, newest first, filtered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from containers.models import Deployment, Event, Image, record

pytestmark = pytest.mark.django_db


def deployment(name: str) -> Deployment:
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/events:1")
    return Deployment.objects.create(name=name, image=image, memory_limit_bytes=16 * 1024**2)


def kinds(api_client: APIClient, query: str = "") -> list[str]:
    response = api_client.get(f"/api/events/?{query}")
    assert response.status_code == 200, response.json()
    return [row["kind"] for row in response.json()["results"]]


def test_it_lists_events_newest_first_with_their_deployment(api_client: APIClient) -> None:
    web = deployment("ev-web")
    record("deployment.created", actor="alice", deployment=web, after={"replicas": 1})
    record(
        "deployment.scaled",
        actor="bob",
        deployment=web,
        before={"replicas": 1},
        after={"replicas": 3},
        message="ev-web scaled from 1 to 3",
    )

    rows = api_client.get("/api/events/").json()["results"]

    assert [row["kind"] for row in rows] == ["deployment.scaled", "deployment.created"]
    assert rows[0] | {"id": None, "created_at": None} == {
        "id": None, "created_at": None, "actor": "bob", "kind": "deployment.scaled",
        "message": "ev-web scaled from 1 to 3", "deployment": web.pk, "deployment_name": "ev-web",
        "container_docker_id": "", "before": {"replicas": 1}, "after": {"replicas": 3},
    }  # fmt: skip


def test_an_api_change_is_logged_with_the_user_and_before_and_after(api_client: APIClient) -> None:
    web = deployment("ev-change")

    api_client.post(f"/api/deployments/{web.pk}/scale/", {"replicas": 2}, format="json")

    [row] = api_client.get(f"/api/events/?deployment={web.pk}").json()["results"]
    assert (row["kind"], row["actor"]) == ("deployment.scaled", "alice")
    assert (row["before"], row["after"]) == ({"replicas": 1}, {"replicas": 2})


def test_it_filters_by_kind_actor_deployment_and_time(api_client: APIClient) -> None:
    web, api = deployment("ev-f-web"), deployment("ev-f-api")
    now = timezone.now()
    Event.objects.create(kind="deployment.created", actor="alice", deployment=web, created_at=now - timedelta(hours=2))
    Event.objects.create(
        kind="container.started", actor="reconciler", deployment=web, created_at=now - timedelta(hours=1)
    )
    Event.objects.create(kind="deployment.scaled", actor="bob", deployment=api, created_at=now)

    assert kinds(api_client, "kind=deployment.scaled") == ["deployment.scaled"]
    assert kinds(api_client, "kind__startswith=deployment.") == ["deployment.scaled", "deployment.created"]
    assert kinds(api_client, "actor=reconciler") == ["container.started"]
    assert kinds(api_client, f"deployment={web.pk}") == ["container.started", "deployment.created"]
    after = (now - timedelta(minutes=90)).isoformat()
    before = (now - timedelta(minutes=30)).isoformat()
    assert kinds(api_client, f"created_after={after.replace('+', '%2B')}") == ["deployment.scaled", "container.started"]
    assert kinds(api_client, f"created_before={before.replace('+', '%2B')}") == [
        "container.started",
        "deployment.created",
    ]
    assert kinds(api_client, "ordering=created_at") == ["deployment.created", "container.started", "deployment.scaled"]


def test_it_keeps_the_events_of_a_deleted_deployment(api_client: APIClient) -> None:
    gone = deployment("ev-gone")
    record("deployment.deleted", actor="alice", before={"replicas": 1}, message="ev-gone deleted")
    record("deployment.created", actor="alice", deployment=gone)
    gone.delete()

    rows = api_client.get("/api/events/").json()["results"]

    assert [(row["kind"], row["deployment"], row["deployment_name"]) for row in rows] == [
        ("deployment.created", None, None),
        ("deployment.deleted", None, None),
    ]


@pytest.mark.parametrize("param", ["created_after", "created_before"])
def test_a_time_that_is_not_a_time_is_a_400_naming_the_parameter(api_client: APIClient, param: str) -> None:
    response = api_client.get(f"/api/events/?{param}=yesterday")

    assert response.status_code == 400 and param in response.json()["fields"]


def test_the_log_is_read_only(api_client: APIClient) -> None:
    event = record("deployment.created", actor="alice")

    assert api_client.post("/api/events/", {"kind": "x", "actor": "eve"}, format="json").status_code == 405
    assert api_client.patch(f"/api/events/{event.pk}/", {"actor": "eve"}, format="json").status_code == 405
    assert api_client.put(f"/api/events/{event.pk}/", {"actor": "eve"}, format="json").status_code == 405
    assert api_client.delete(f"/api/events/{event.pk}/").status_code == 405
    assert Event.objects.get(pk=event.pk).actor == "alice"


def test_one_event_and_an_unknown_one(api_client: APIClient) -> None:
    event = record("deployment.created", actor="alice")

    assert api_client.get(f"/api/events/{event.pk}/").json()["kind"] == "deployment.created"
    missing = api_client.get("/api/events/999999/")
    assert missing.status_code == 404 and "error" in missing.json()


def test_the_list_takes_as_many_queries_for_50_rows_as_for_2(api_client: APIClient) -> None:
    web = deployment("ev-count")
    for _ in range(2):
        record("deployment.scaled", actor="alice", deployment=web)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get("/api/events/").json()["count"] == 2
    others = [deployment(f"ev-count-{i}") for i in range(4)]
    Event.objects.bulk_create(
        Event(kind="deployment.scaled", actor="alice", deployment=others[i % 4]) for i in range(48)
    )
    with CaptureQueriesContext(connection) as many:
        response = api_client.get("/api/events/")

    assert response.json()["count"] == 50 and len(response.json()["results"]) == 50
    assert len(many) == len(few)
