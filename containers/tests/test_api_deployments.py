"""``/api/deployments/``: desired state through the API, converged on the real engine with ``?wait=true``.

Under the ``db`` fixture the Celery task queued on commit never runs, so a test that wants
containers asks for ``?wait=true`` (the view converges before answering).
"""

from __future__ import annotations

import urllib.request
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import wait_for
from containers import engine
from containers.models import Container, Deployment, Event, Image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


SMALL = {"cpu_limit": "0.1", "memory_limit": "16m"}


def on_engine(deployment_id: int) -> list[engine.ContainerInfo]:
    return engine.list_containers({**engine.instance_labels(), engine.LABEL_DEPLOYMENT: str(deployment_id)})


def page(port: int) -> str:
    def fetch() -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                return response.read().decode()
        except OSError:
            return None

    return wait_for(fetch, timeout=15, what=f"a page on 127.0.0.1:{port}")


def create(api_client: APIClient, name: str, image: str, *, wait: bool = False, **extra: Any) -> Any:
    body = {"name": name, "image": image, "replicas": 1, **SMALL, **extra}
    return api_client.post(f"/api/deployments/{'?wait=true' if wait else ''}", body, format="json")


def test_the_full_lifecycle_runs_on_the_engine(api_client: APIClient, demo_image: Image) -> None:
    created = create(api_client, "api-life", demo_image.reference, wait=True, container_port=8080)
    assert created.status_code == 201, created.json()
    body = created.json()
    pk = body["id"]
    assert created["Location"] == f"/api/deployments/{pk}/"
    assert body["state"] == "running" and body["running_replicas"] == 1
    [container] = body["containers"]
    assert container["status"] == "running" and container["host_port"]
    assert container["docker_id"][:12] in page(container["host_port"])  # the demo serves its hostname

    scaled = api_client.post(f"/api/deployments/{pk}/scale/?wait=true", {"replicas": 3}, format="json")
    assert scaled.status_code == 200
    assert scaled.json()["replicas"] == 3 and scaled.json()["running_replicas"] == 3
    running = on_engine(pk)
    assert len(running) == 3 and all(c.running for c in running)

    api_client.post(f"/api/deployments/{pk}/scale/?wait=true", {"replicas": 1}, format="json")
    assert len(on_engine(pk)) == 1

    stopped = api_client.post(f"/api/deployments/{pk}/stop/?wait=true")
    assert stopped.status_code == 200
    assert stopped.json()["replicas"] == 0 and stopped.json()["state"] == "stopped"
    assert on_engine(pk) == []

    deleted = api_client.delete(f"/api/deployments/{pk}/")
    assert deleted.status_code == 204
    assert not Deployment.objects.filter(pk=pk).exists()
    assert on_engine(pk) == []
    assert api_client.get(f"/api/deployments/{pk}/").status_code == 404


def test_each_change_is_an_event_with_the_user_and_before_and_after(api_client: APIClient, demo_image: Image) -> None:
    pk = create(api_client, "api-events", demo_image.reference).json()["id"]
    api_client.post(f"/api/deployments/{pk}/scale/", {"replicas": 2}, format="json")
    api_client.patch(f"/api/deployments/{pk}/", {"memory_limit": "24m"}, format="json")
    api_client.post(f"/api/deployments/{pk}/stop/")
    api_client.delete(f"/api/deployments/{pk}/")

    events = {e.kind: e for e in Event.objects.filter(actor="alice")}
    assert events["deployment.created"].after["replicas"] == 1
    assert (events["deployment.scaled"].before, events["deployment.scaled"].after) == ({"replicas": 1}, {"replicas": 2})
    updated = events["deployment.updated"]
    assert updated.before["memory_limit_bytes"] == 16 * 1024**2
    assert updated.after["memory_limit_bytes"] == 24 * 1024**2
    assert events["deployment.stopped"].after == {"replicas": 0}
    assert events["deployment.deleted"].before["image"] == demo_image.reference


def test_without_wait_the_create_answers_at_once_and_scale_is_accepted(api_client: APIClient) -> None:
    image = Image.objects.create(reference="orchestrator-test/not-started:1")
    created = create(api_client, "api-nowait", image.reference)
    assert created.status_code == 201
    assert created.json()["state"] == "converging" and created.json()["containers"] == []

    scaled = api_client.post(f"/api/deployments/{created.json()['id']}/scale/", {"replicas": 2}, format="json")

    assert scaled.status_code == 202
    assert scaled.json()["replicas"] == 2
    assert Deployment.objects.get(name="api-nowait").replicas == 2


def test_env_values_are_never_echoed_or_logged(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/secret:1")
    created = create(
        api_client, "api-env", "orchestrator-test/secret:1", env={"API_TOKEN": "s3cret-value", "MODE": "x"}
    )
    pk = created.json()["id"]
    patched = api_client.patch(f"/api/deployments/{pk}/", {"env": {"API_TOKEN": "other-s3cret"}}, format="json")
    shown = api_client.get(f"/api/deployments/{pk}/")
    listed = api_client.get("/api/deployments/")
    events = api_client.get(f"/api/events/?deployment={pk}")

    assert created.json()["env_keys"] == ["API_TOKEN", "MODE"]
    assert shown.json()["env_keys"] == ["API_TOKEN"] and "env" not in shown.json()
    for response in (created, patched, shown, listed, events):
        assert "s3cret" not in response.content.decode()
    assert Deployment.objects.get(pk=pk).env == {"API_TOKEN": "other-s3cret"}
    assert not any("s3cret" in str((e.before, e.after, e.message)) for e in Event.objects.all())


def test_limits_read_as_strings_or_numbers_and_memory_answers_in_both_forms(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/limits:1")
    response = create(api_client, "api-limits", "orchestrator-test/limits:1", cpu_limit=0.25, memory_limit="1g")

    body = response.json()
    assert response.status_code == 201
    assert (body["cpu_limit"], body["memory_limit"], body["memory_limit_bytes"]) == ("0.25", "1g", 1024**3)


def test_limits_left_out_take_the_configured_defaults(api_client: APIClient, settings: Any) -> None:
    settings.DEFAULT_CPU_LIMIT, settings.DEFAULT_MEMORY_LIMIT = Decimal("0.2"), 32 * 1024**2
    Image.objects.create(reference="orchestrator-test/defaults:1")

    response = api_client.post(
        "/api/deployments/", {"name": "api-defaults", "image": "orchestrator-test/defaults:1"}, format="json"
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["replicas"], body["cpu_limit"], body["memory_limit"]) == (1, "0.2", "32m")


def test_a_command_given_as_one_string_is_split_like_a_shell_would(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/command:1")
    response = create(api_client, "api-cmd", "orchestrator-test/command:1", command="sh -c 'echo hello world'")

    assert response.json()["command"] == ["sh", "-c", "echo hello world"]


def test_a_changed_spec_recreates_the_containers_in_a_new_generation(api_client: APIClient, demo_image: Image) -> None:
    pk = create(api_client, "api-respec", demo_image.reference, wait=True).json()["id"]
    before = {c.id for c in on_engine(pk)}

    patched = api_client.patch(f"/api/deployments/{pk}/?wait=true", {"memory_limit": "24m"}, format="json")

    assert patched.status_code == 200
    assert patched.json()["generation"] == 2 and patched.json()["memory_limit"] == "24m"
    now = on_engine(pk)
    assert len(now) == 1 and now[0].id not in before
    assert engine.inspect_container(now[0].id).memory_limit_bytes == 24 * 1024**2


def test_the_name_cannot_change_and_put_is_not_offered(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/rename:1")
    pk = create(api_client, "api-rename", "orchestrator-test/rename:1").json()["id"]

    renamed = api_client.patch(f"/api/deployments/{pk}/", {"name": "other"}, format="json")
    put = api_client.put(f"/api/deployments/{pk}/", {"name": "api-rename"}, format="json")

    assert renamed.status_code == 400 and "name" in renamed.json()["fields"]
    assert put.status_code == 405
    assert Deployment.objects.get(pk=pk).name == "api-rename"


def test_a_deployment_the_host_cannot_hold_is_refused_with_409(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/huge:1")

    response = create(api_client, "api-huge", "orchestrator-test/huge:1", cpu_limit="512", memory_limit="1t")

    assert response.status_code == 409
    assert "not enough host resources" in response.json()["error"]
    assert not Deployment.objects.filter(name="api-huge").exists()
    assert Event.objects.filter(kind="request.refused", actor="alice").exists()


def test_a_duplicate_name_is_refused_naming_the_field(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/dup:1")
    create(api_client, "api-dup", "orchestrator-test/dup:1")

    response = create(api_client, "api-dup", "orchestrator-test/dup:1")

    assert response.status_code == 400 and "name" in response.json()["fields"]
    assert Deployment.objects.filter(name="api-dup").count() == 1


def test_the_list_filters_by_name_state_and_image(api_client: APIClient) -> None:
    web, worker = make_deployments(2, prefix="filter")
    Deployment.objects.filter(pk=worker.pk).update(state=Deployment.State.STOPPED)

    def names(query: str) -> list[str]:
        response = api_client.get(f"/api/deployments/?{query}")
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()["results"]]

    assert names("name=filter-0") == ["filter-0"]
    assert names("name__icontains=FILTER") == ["filter-0", "filter-1"]
    assert names("state=stopped") == ["filter-1"]
    assert names("image=orchestrator-test/listing:1") == ["filter-0", "filter-1"]
    assert names("image=orchestrator-test/other:1") == []
    assert names("ordering=-name") == ["filter-1", "filter-0"]
    assert api_client.get("/api/deployments/?state=sleeping").status_code == 400


def test_the_list_takes_as_many_queries_for_50_rows_as_for_2(api_client: APIClient) -> None:
    make_deployments(2, prefix="few")
    with CaptureQueriesContext(connection) as few:
        assert api_client.get("/api/deployments/").json()["count"] == 2
    make_deployments(48, prefix="many")
    with CaptureQueriesContext(connection) as many:
        response = api_client.get("/api/deployments/")

    assert response.json()["count"] == 50 and len(response.json()["results"]) == 50
    assert len(many) == len(few)
    assert all(row["running_replicas"] == 2 for row in response.json()["results"])


def make_deployments(count: int, *, prefix: str) -> list[Deployment]:
    """Rows only (no engine): what the list shows is the database mirror."""
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/listing:1")
    made = Deployment.objects.bulk_create(
        Deployment(name=f"{prefix}-{i}", image=image, replicas=2, memory_limit_bytes=16 * 1024**2) for i in range(count)
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
        for n in range(2)
    )
    return made
