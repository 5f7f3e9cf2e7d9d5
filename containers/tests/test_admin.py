"""The Django admin for every model: pages load for a superuser, the event log is read-only.

Rows are created with the ORM; the admin never calls the engine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from containers.models import Container, Deployment, Event, Image, record
from orchestrator_site.processes.models import Heartbeat
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db

YEAR = timezone.now().year


@dataclass
class Rows:
    image: Image
    deployment: Deployment
    container: Container
    event: Event
    heartbeat: Heartbeat
    endpoint: ServiceEndpoint


def docker_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def add_containers(deployment: Deployment, count: int) -> list[Container]:
    return Container.objects.bulk_create(
        Container(
            deployment=deployment,
            organization_id=deployment.organization_id,
            docker_id=docker_id(),
            name=f"{deployment.name}-{uuid.uuid4().hex[:6]}",
        )
        for _ in range(count)
    )


@pytest.fixture
def rows() -> Rows:
    image = Image.objects.create(
        reference="orchestrator-test/admin:1", docker_id="sha256:" + docker_id(), size_bytes=5 << 20
    )
    deployment = Deployment.objects.create(name="admin-web", image=image, replicas=1, memory_limit_bytes=64 << 20)
    (container,) = add_containers(deployment, 1)
    Container.objects.filter(pk=container.pk).update(status=Container.Status.RUNNING, host_port=32100)
    event = record(
        "deployment.created",
        actor="tests",
        message="admin-web created",
        deployment=deployment,
        container_docker_id=container.docker_id,
        after={"replicas": 1},
    )
    heartbeat = Heartbeat.objects.create(component="worker", seen_at=timezone.now())
    endpoint = ServiceEndpoint.objects.create(service="admin-web", host="127.0.0.1", port=32100, container=container)
    return Rows(image, deployment, container, event, heartbeat, endpoint)


CHANGELISTS = [
    "/admin/containers/image/",
    "/admin/containers/image/?q=admin&source__exact=engine",
    f"/admin/containers/image/?added_at__year={YEAR}",
    "/admin/containers/deployment/",
    "/admin/containers/deployment/?q=orchestrator-test&state__exact=converging&restart_policy__exact=no",
    f"/admin/containers/deployment/?created_at__year={YEAR}",
    "/admin/containers/container/",
    "/admin/containers/container/?q=admin-web&status__exact=running",
    "/admin/containers/container/?deployment__id__exact={deployment}",
    f"/admin/containers/container/?created_at__year={YEAR}",
    "/admin/containers/event/",
    "/admin/containers/event/?q=created&kind=deployment.created",
    f"/admin/containers/event/?created_at__year={YEAR}",
    "/admin/processes/heartbeat/",
    f"/admin/processes/heartbeat/?q=worker&seen_at__year={YEAR}",
    "/admin/registry/serviceendpoint/",
    "/admin/registry/serviceendpoint/?q=admin-web&status__exact=unknown&protocol__exact=http",
    f"/admin/registry/serviceendpoint/?created_at__year={YEAR}",
]


@pytest.mark.parametrize("url", CHANGELISTS)
def test_every_changelist_loads_for_a_superuser(admin_client: Client, rows: Rows, url: str) -> None:
    response = admin_client.get(url.format(deployment=rows.deployment.pk))

    assert response.status_code == 200
    # An unknown filter parameter makes the admin redirect with ?e=1 instead of failing.
    assert "?e=1" not in response.get("Location", "")
    assert response.context["cl"].result_count >= 1


def test_searching_by_a_docker_id_prefix_finds_the_container(admin_client: Client, rows: Rows) -> None:
    response = admin_client.get(f"/admin/containers/container/?q={rows.container.docker_id[:12]}")

    assert list(response.context["cl"].result_list) == [rows.container]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/containers/image/add/",
        "/admin/containers/deployment/add/",
        "/admin/containers/container/add/",
        "/admin/processes/heartbeat/add/",
        "/admin/registry/serviceendpoint/add/",
    ],
)
def test_every_add_page_loads_for_a_superuser(admin_client: Client, rows: Rows, url: str) -> None:
    assert admin_client.get(url).status_code == 200


@pytest.mark.parametrize("name", ["image", "deployment", "container", "event", "heartbeat", "endpoint"])
def test_every_change_page_loads_for_a_superuser(admin_client: Client, rows: Rows, name: str) -> None:
    obj = getattr(rows, name)
    meta = obj._meta

    response = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/")

    assert response.status_code == 200


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client: Client, rows: Rows) -> None:
    response = client.get("/admin/containers/deployment/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_event_admin_refuses_to_add(admin_client: Client, rows: Rows) -> None:
    assert admin_client.get("/admin/containers/event/add/").status_code == 403
    assert admin_client.post("/admin/containers/event/add/", {"kind": "forged", "actor": "x"}).status_code == 403
    assert not Event.objects.filter(kind="forged").exists()


def test_the_event_admin_shows_an_event_without_a_save_button(admin_client: Client, rows: Rows) -> None:
    html = admin_client.get(f"/admin/containers/event/{rows.event.pk}/change/").content.decode()

    assert "admin-web created" in html
    assert 'name="_save"' not in html
    assert "/delete/" not in html


def test_the_event_admin_refuses_to_change(admin_client: Client, rows: Rows) -> None:
    response = admin_client.post(
        f"/admin/containers/event/{rows.event.pk}/change/", {"kind": "rewritten", "actor": "x", "created_at_0": "x"}
    )

    assert response.status_code == 403
    rows.event.refresh_from_db()
    assert rows.event.kind == "deployment.created"


def test_the_event_admin_refuses_to_delete(admin_client: Client, rows: Rows) -> None:
    assert admin_client.get(f"/admin/containers/event/{rows.event.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/containers/event/{rows.event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=rows.event.pk).exists()


def test_the_event_changelist_offers_no_bulk_delete(admin_client: Client, rows: Rows) -> None:
    html = admin_client.get("/admin/containers/event/").content.decode()

    assert "delete_selected" not in html
    response = admin_client.post(
        "/admin/containers/event/", {"action": "delete_selected", "_selected_action": [rows.event.pk], "post": "yes"}
    )
    assert Event.objects.filter(pk=rows.event.pk).exists()
    assert response.status_code in (200, 302, 403)


def test_the_deployment_admin_keeps_the_reconcilers_fields_read_only(admin_client: Client, rows: Rows) -> None:
    html = admin_client.get(f"/admin/containers/deployment/{rows.deployment.pk}/change/").content.decode()

    for field in ("generation", "state", "crash_count", "backoff_until"):
        assert f'name="{field}"' not in html
    assert 'name="replicas"' in html


def test_a_raw_edit_of_replicas_changes_only_the_row(admin_client: Client, rows: Rows) -> None:
    deployment = rows.deployment
    data = {
        "name": deployment.name,
        "image": deployment.image_id,
        "replicas": 3,
        "cpu_limit": "0.5",
        "memory_limit_bytes": deployment.memory_limit_bytes,
        "container_port": "",
        "command": "[]",
        "env": "{}",
        "restart_policy": "no",
        "state": "running",  # read-only: ignored
        "generation": 99,  # read-only: ignored
        "containers-TOTAL_FORMS": "1",
        "containers-INITIAL_FORMS": "1",
        "containers-MIN_NUM_FORMS": "0",
        "containers-MAX_NUM_FORMS": "1000",
        "containers-0-id": rows.container.pk,
        "containers-0-deployment": deployment.pk,
    }

    response = admin_client.post(f"/admin/containers/deployment/{deployment.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    deployment.refresh_from_db()
    assert deployment.replicas == 3
    assert deployment.generation == 1
    assert deployment.state == Deployment.State.CONVERGING


def test_the_image_autocomplete_used_by_the_deployment_form_answers(admin_client: Client, rows: Rows) -> None:
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "containers", "model_name": "deployment", "field_name": "image", "term": "admin"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["orchestrator-test/admin:1"]


@pytest.mark.parametrize(
    "url", ["/admin/containers/container/", "/admin/containers/event/", "/admin/registry/serviceendpoint/"]
)
def test_the_changelist_query_count_does_not_grow_with_rows(admin_client: Client, rows: Rows, url: str) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    few = count()
    for n in range(2):
        deployment = Deployment.objects.create(
            name=f"grow-{n}", image=rows.image, replicas=25, memory_limit_bytes=64 << 20
        )
        for container in add_containers(deployment, 25):
            record("container.created", actor="tests", deployment=deployment, container_docker_id=container.docker_id)
            ServiceEndpoint.objects.create(
                service=deployment.name, host="127.0.0.1", port=40000 + container.pk, container=container
            )
    many = count()

    assert many == few
