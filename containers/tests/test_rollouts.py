"""Rolling updates, revisions, pause/resume and rollback, against the real engine (no load balancer here:
a container without a port is ready once it runs; registry/tests/test_rollout_traffic.py covers traffic)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import deploy, on_engine
from containers import reconcile
from containers.deployments import update_deployment
from containers.models import Container, Deployment, Event, Revision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


def ids(deployment: Deployment) -> set[str]:
    return set(Container.objects.filter(deployment=deployment).values_list("docker_id", flat=True))


def kinds(deployment: Deployment) -> list[str]:
    return list(Event.objects.filter(deployment=deployment).order_by("id").values_list("kind", flat=True))


def test_a_changed_spec_rolls_out_a_new_revision_one_container_at_a_time(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-env", 3)
    first = ids(deployment)

    update_deployment(deployment, actor="tests", env={"REVISION": "2"})
    reconcile.converge(deployment.pk)

    deployment.refresh_from_db()
    assert deployment.generation == 2
    assert deployment.rollout_phase == "complete"
    rows = list(Container.objects.filter(deployment=deployment))
    assert len(rows) == 3 and not ids(deployment) & first
    assert all(r.generation == 2 and r.ready_at is not None for r in rows)
    assert {c.generation for c in on_engine(deployment)} == {2}
    revisions = list(Revision.objects.filter(deployment=deployment).order_by("number"))
    assert [(r.number, r.changed) for r in revisions] == [(1, []), (2, ["env"])]
    assert revisions[1].completed_at is not None and revisions[1].template["env"] == {"REVISION": "2"}
    events = kinds(deployment)
    assert "rollout.started" in events and events.count("container.ready") >= 3 and "rollout.complete" in events
    # Surge 1, unavailable 0: every removal came after a start, never more than 4 containers at once.
    steps = [k for k in events[events.index("rollout.started") :] if k in ("container.started", "container.removed")]
    running = 3
    for kind in steps:
        running += 1 if kind == "container.started" else -1
        assert 3 <= running <= 4


def test_a_revision_that_exits_at_once_is_rolled_back_and_the_old_containers_keep_running(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-crash", 2)
    first = ids(deployment)

    update_deployment(deployment, actor="tests", command=["sh", "-c", "exit 3"])
    reconcile.converge(deployment.pk)

    deployment.refresh_from_db()
    assert deployment.rollout_phase == "rolled_back", deployment.rollout_message
    assert deployment.generation == 3 and deployment.command == []
    assert ids(deployment) == first  # the same containers: they never stopped serving
    assert all(c.state == "running" for c in on_engine(deployment))
    events = kinds(deployment)
    assert events.index("rollout.failed") < events.index("deployment.rolled_back") < events.index("rollout.rolled_back")
    failed = Event.objects.get(deployment=deployment, kind="rollout.failed")
    assert "crashed" in failed.message


def test_a_revision_that_never_becomes_ready_misses_its_deadline_and_is_rolled_back(demo_image: Any) -> None:
    # A port nothing listens on: the container runs but never answers.
    deployment = deploy(demo_image, "roll-deaf", 1, container_port=8080, progress_deadline_s=3)
    first = ids(deployment)
    assert Container.objects.get(deployment=deployment).ready_at is not None

    update_deployment(deployment, actor="tests", command=["sleep", "600"])
    reconcile.converge(deployment.pk)

    deployment.refresh_from_db()
    assert deployment.rollout_phase == "rolled_back", deployment.rollout_message
    assert ids(deployment) == first
    assert "deadline" in Event.objects.get(deployment=deployment, kind="rollout.failed").message


def test_without_auto_rollback_a_failed_rollout_stops_where_it_is(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-stay", 2, container_port=8080, progress_deadline_s=2, auto_rollback=False)
    first = ids(deployment)

    update_deployment(deployment, actor="tests", command=["sleep", "600"])
    reconcile.converge(deployment.pk)
    reconcile.converge(deployment.pk)

    deployment.refresh_from_db()
    assert (deployment.rollout_phase, deployment.generation) == ("failed", 2)
    assert first <= ids(deployment)  # the old ones still run
    assert len(ids(deployment)) <= 3


def test_the_api_pauses_resumes_and_rolls_back(demo_image: Any, api_client: APIClient) -> None:
    deployment = deploy(demo_image, "roll-api", 2)
    url = f"/api/deployments/{deployment.pk}/"

    assert api_client.post(url + "pause/").status_code == 202
    again = api_client.post(url + "pause/")
    assert again.status_code == 409 and "paused" in again.json()["fields"]

    answer = api_client.patch(url, {"env": {"A": "1"}}, format="json")
    assert answer.status_code == 200
    assert answer.json()["rollout"]["phase"] == "progressing" and answer.json()["paused"] is True
    reconcile.converge(deployment.pk)
    body = api_client.get(url).json()
    assert (body["rollout"]["updated"], body["rollout"]["old"]) == (0, 2)  # paused: nothing replaced yet

    assert api_client.post(url + "resume/").status_code == 202
    reconcile.converge(deployment.pk)
    body = api_client.get(url).json()
    assert body["rollout"] | {"started_at": None, "message": ""} == {
        "phase": "complete",
        "revision": 2,
        "replicas": 2,
        "updated": 2,
        "ready": 2,
        "old": 0,
        "paused": False,
        "message": "",
        "started_at": None,
    }
    assert body["env_keys"] == ["A"]

    revisions = api_client.get(url + "revisions/").json()
    assert [(r["number"], r["current"], r["changed"]) for r in revisions] == [(2, True, ["env"]), (1, False, [])]
    assert revisions[0]["template"]["env_keys"] == ["A"] and "env" not in revisions[0]["template"]

    back = api_client.post(url + "rollback/", {}, format="json")
    assert back.status_code == 202
    assert back.json()["rollout"]["phase"] == "rolling_back" and back.json()["generation"] == 3
    reconcile.converge(deployment.pk)
    body = api_client.get(url).json()
    assert body["rollout"]["phase"] == "rolled_back" and body["env_keys"] == []

    named = api_client.post(url + "rollback/", {"revision": 2}, format="json")
    assert named.status_code == 202
    reconcile.converge(deployment.pk)
    assert api_client.get(url).json()["env_keys"] == ["A"]


def test_bad_rollbacks_and_strategies_are_refused_naming_the_field(demo_image: Any, api_client: APIClient) -> None:
    deployment = deploy(demo_image, "roll-bad", 1, converge=False)
    url = f"/api/deployments/{deployment.pk}/"

    nothing_before = api_client.post(url + "rollback/", {}, format="json")
    assert nothing_before.status_code == 404 and "revision" in nothing_before.json()["fields"]
    current = api_client.post(url + "rollback/", {"revision": 1}, format="json")
    assert current.status_code == 409 and "revision" in current.json()["fields"]
    unknown = api_client.post(url + "rollback/", {"revision": 99}, format="json")
    assert unknown.status_code == 404 and "revision" in unknown.json()["fields"]
    not_a_number = api_client.post(url + "rollback/", {"revision": "two"}, format="json")
    assert not_a_number.status_code == 400 and "revision" in not_a_number.json()["fields"]
    assert api_client.post(url + "resume/").status_code == 409

    for body, field in [
        ({"max_surge": 0, "max_unavailable": 0}, "max_surge"),
        ({"max_surge": 0}, "max_surge"),
        ({"max_surge": -1}, "max_surge"),
        ({"max_unavailable": -2}, "max_unavailable"),
        ({"progress_deadline_s": 0}, "progress_deadline_s"),
        ({"drain_timeout_s": -1}, "drain_timeout_s"),
        ({"stop_grace_s": -5}, "stop_grace_s"),
        ({"min_ready_seconds": -1}, "min_ready_seconds"),
    ]:
        answer = api_client.patch(url, body, format="json")
        assert answer.status_code == 400 and field in answer.json()["fields"], (body, answer.json())
    deployment.refresh_from_db()
    assert (deployment.max_surge, deployment.max_unavailable, deployment.generation) == (1, 0, 1)

    ok = api_client.patch(url, {"max_surge": 0, "max_unavailable": 1, "stop_grace_s": 3}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["max_surge"], ok.json()["max_unavailable"], ok.json()["generation"]) == (0, 1, 1)
    assert ok.json()["lb_url"] is None  # no container port


def test_only_the_last_ten_revisions_are_kept(demo_image: Any) -> None:
    deployment = deploy(demo_image, "roll-ten", 0, converge=False)
    for n in range(12):
        update_deployment(deployment, actor="tests", env={"N": str(n)})
    kept = list(Revision.objects.filter(deployment=deployment).values_list("number", flat=True))
    assert kept == list(range(13, 3, -1))
