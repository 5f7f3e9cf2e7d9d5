"""Organization quotas on starts, scales, edits, uploads and pulls: 409 naming the quota, the limit and
what it would reach; concurrent requests can't pass a quota together (the organization's row is locked)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections
from rest_framework.test import APIClient

from conftest import make_member
from containers.models import Deployment, Event
from tenancy.models import Organization

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def operator_client(organization: Organization, name: str = "olga") -> APIClient:
    client = APIClient()
    client.force_login(make_member(name, organization, "operator"))
    return client


def body(demo_image: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": demo_image.reference,
        "replicas": 1,
        "cpu_limit": "0.1",
        "memory_limit": "16m",
        **extra,
    }


def test_a_create_past_the_deployments_quota_is_a_409_naming_it(demo_image: Any, organization: Organization) -> None:
    organization.quota_deployments = 1
    organization.save()
    client = operator_client(organization)

    first = client.post("/api/deployments/", body(demo_image, "q-one", replicas=0), format="json")
    second = client.post("/api/deployments/", body(demo_image, "q-two", replicas=0), format="json")

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json() | {"error": ""} == {
        "error": "",
        "fields": {"deployments": [second.json()["error"]]},
        "quota": "deployments",
        "limit": "1",
        "would_reach": "2",
    }
    assert not Deployment.objects.filter(name="q-two").exists()
    refused = Event.objects.filter(kind="request.refused").latest("id")
    assert refused.after["quota"] == "deployments" and refused.organization_id == organization.pk


def test_a_scale_past_the_cpu_quota_is_refused_and_leaves_the_replicas(
    demo_image: Any, organization: Organization
) -> None:
    organization.quota_cpu = Decimal("0.3")
    organization.save()
    client = operator_client(organization)
    made = client.post("/api/deployments/", body(demo_image, "q-cpu", replicas=0), format="json").json()

    ok = client.post(f"/api/deployments/{made['id']}/scale/", {"replicas": 3}, format="json")
    refused = client.post(f"/api/deployments/{made['id']}/scale/", {"replicas": 4}, format="json")

    assert ok.status_code == 202
    assert refused.status_code == 409 and refused.json()["quota"] == "cpu"
    assert refused.json()["limit"] == "0.3 cores" and refused.json()["would_reach"] == "0.4 cores"
    assert Deployment.objects.get(pk=made["id"]).replicas == 3


def test_an_edit_past_the_memory_quota_is_refused(demo_image: Any, organization: Organization) -> None:
    organization.quota_memory_bytes = 64 * MIB
    organization.save()
    client = operator_client(organization)
    made = client.post("/api/deployments/", body(demo_image, "q-mem", replicas=0), format="json").json()
    client.post(f"/api/deployments/{made['id']}/scale/", {"replicas": 2}, format="json")

    response = client.patch(f"/api/deployments/{made['id']}/", {"memory_limit": "64m"}, format="json")

    assert response.status_code == 409 and response.json()["quota"] == "memory"
    assert response.json()["would_reach"] == "128 MiB" and response.json()["limit"] == "64 MiB"
    assert Deployment.objects.get(pk=made["id"]).memory_limit_bytes == 16 * MIB


def test_the_seed_start_respects_the_containers_quota(demo_image: Any, organization: Organization) -> None:
    organization.quota_containers = 2
    organization.save()
    client = operator_client(organization)

    response = client.post(f"/containers/{demo_image.reference}/start", {"count": 3}, format="json")

    assert response.status_code == 409
    assert response.json()["quota"] == "containers" and response.json()["would_reach"] == "3"
    assert not Deployment.objects.exists()


def test_going_down_is_allowed_while_over_a_lowered_quota(demo_image: Any, organization: Organization) -> None:
    client = operator_client(organization)
    made = client.post("/api/deployments/", body(demo_image, "q-down", replicas=0), format="json").json()
    client.post(f"/api/deployments/{made['id']}/scale/", {"replicas": 4}, format="json")
    organization.quota_containers = 1
    organization.save()

    response = client.post(f"/api/deployments/{made['id']}/scale/", {"replicas": 2}, format="json")

    assert response.status_code == 202 and Deployment.objects.get(pk=made["id"]).replicas == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_scales_can_not_pass_the_quota_together(demo_image: Any) -> None:
    """Eight requests at once, each adding one replica under a quota of five containers: exactly five fit."""
    organization = Organization.objects.create(name="Racing", slug="racing", quota_containers=5)
    client = operator_client(organization, "racer")
    made = [
        client.post("/api/deployments/", body(demo_image, f"race-{i}", replicas=0), format="json").json()["id"]
        for i in range(8)
    ]
    clients = []
    for _ in made:
        own = APIClient()
        own.cookies = client.cookies  # the same session, one client per thread
        clients.append(own)
    start = threading.Barrier(len(made))
    codes: list[int] = []

    def scale_one(own: APIClient, pk: int) -> None:
        try:
            start.wait()
            codes.append(own.post(f"/api/deployments/{pk}/scale/", {"replicas": 1}, format="json").status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=scale_one, args=pair) for pair in zip(clients, made, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes) == [202] * 5 + [409] * 3
    assert sum(Deployment.objects.filter(organization=organization).values_list("replicas", flat=True)) == 5


def test_an_upload_past_the_disk_quota_is_refused_before_it_is_stored(
    demo_image: Any, organization: Organization, tmp_path: Any
) -> None:
    from conftest import docker_cli
    from containers import engine
    from containers.tests.image_tags import unique_reference, untag

    organization.quota_image_bytes = 1024
    organization.save()
    client = operator_client(organization)
    reference = unique_reference("quota-upload")
    docker_cli("tag", demo_image.reference, reference)
    archive = tmp_path / "image.tar"
    docker_cli("save", "-o", str(archive), reference)
    untag(reference)

    with archive.open("rb") as fh:
        response = client.post("/api/images/upload/", {"file": fh}, format="multipart")

    assert response.status_code == 409 and response.json()["quota"] == "image_disk"
    with pytest.raises(engine.ImageNotFound):
        engine.inspect_image(reference)
