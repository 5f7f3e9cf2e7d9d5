"""Two organizations on every entry point: each sees and changes only its own rows, another's id is a
404, a body or querystring naming the other organization is ignored, and the seed's start gives each
its own deployment of the same image."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from conftest import deploy, make_member
from containers.models import Container, Deployment, Event
from tenancy.models import ApiToken, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(demo_image: Any, remove_test_containers: None) -> dict[str, Any]:
    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    beta = Organization.objects.create(name="Beta", slug="beta")
    alice = make_member("alice", alpha, "operator")
    bob = make_member("bob", beta, "operator")
    return {"alpha": alpha, "beta": beta, "alice": alice, "bob": bob, "image": demo_image}


def token_client(user: Any, organization: Organization, role: str = "operator") -> APIClient:
    _, key = ApiToken.objects.create(user, expiry=None, name="t", organization=organization, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_two_customers_starting_the_same_image_get_two_deployments(two: dict[str, Any]) -> None:
    alice = token_client(two["alice"], two["alpha"])
    bob = token_client(two["bob"], two["beta"])
    path = f"/containers/{two['image'].reference}/start"

    a = alice.post(path, {"count": 1, "resources": {"cpu_limit": "0.05", "memory_limit": "16m"}}, format="json")
    b = bob.post(path, {"count": 1, "resources": {"cpu_limit": "0.05", "memory_limit": "16m"}}, format="json")

    assert a.status_code == 201 and b.status_code == 201, (a.content, b.content)
    assert a.json()["deployment"]["id"] != b.json()["deployment"]["id"]
    assert a.json()["deployment"]["name"] == b.json()["deployment"]["name"]
    assert [c["id"] for c in alice.get("/containers").json()["containers"]] == a.json()["started"]
    assert [c["id"] for c in bob.get("/containers").json()["containers"]] == b.json()["started"]


def test_another_organizations_ids_are_404_on_the_api_and_seed_paths(two: dict[str, Any]) -> None:
    theirs = deploy(two["image"], "theirs", organization=two["beta"])
    container = theirs.containers.get()
    alice = token_client(two["alice"], two["alpha"])

    assert alice.get(f"/api/deployments/{theirs.pk}/").status_code == 404
    assert alice.post(f"/api/deployments/{theirs.pk}/scale/", {"replicas": 5}, format="json").status_code == 404
    assert alice.get(f"/api/containers/{container.pk}/logs/").status_code == 404
    assert alice.delete(f"/containers/{container.docker_id}").status_code == 404
    assert alice.get(f"/containers/instances/{container.docker_id}/health").status_code == 404
    body = {"instanceId": container.docker_id}
    assert alice.post(f"/containers/{two['image'].reference}/stop", body, format="json").status_code == 404
    theirs.refresh_from_db()
    assert theirs.replicas == 1 and Container.objects.filter(pk=container.pk).exists()


def test_filters_and_bodies_naming_another_organization_cannot_widen(two: dict[str, Any]) -> None:
    theirs = deploy(two["image"], "theirs", organization=two["beta"], converge=False)
    alice = token_client(two["alice"], two["alpha"])

    listed = alice.get(f"/api/deployments/?organization={two['beta'].pk}&name=theirs").json()
    events = alice.get(f"/api/events/?deployment={theirs.pk}").json()
    made = alice.post(
        "/api/deployments/",
        {
            "name": "mine",
            "image": two["image"].reference,
            "replicas": 0,
            "memory_limit": "16m",
            "organization": two["beta"].pk,
        },
        format="json",
    )

    assert listed["count"] == 0 and events["count"] == 0
    assert made.status_code == 201 and Deployment.objects.get(name="mine").organization == two["alpha"]


def test_a_token_of_a_works_only_in_a_even_for_a_member_of_both(two: dict[str, Any]) -> None:
    from tenancy.models import Membership

    Membership.objects.create(user=two["alice"], organization=two["beta"], role="operator")
    theirs = deploy(two["image"], "theirs", organization=two["beta"], converge=False)
    alice = token_client(two["alice"], two["alpha"])

    assert alice.get(f"/api/deployments/{theirs.pk}/").status_code == 404
    assert alice.get("/api/deployments/").json()["count"] == 0


def test_a_viewer_token_can_not_change_anything(two: dict[str, Any]) -> None:
    mine = deploy(two["image"], "mine", organization=two["alpha"], converge=False)
    viewer = token_client(two["alice"], two["alpha"], role="viewer")

    assert viewer.get(f"/api/deployments/{mine.pk}/").status_code == 200
    assert viewer.post(f"/api/deployments/{mine.pk}/scale/", {"replicas": 3}, format="json").status_code == 403
    assert viewer.post(f"/containers/{two['image'].reference}/start", {"count": 1}, format="json").status_code == 403
    mine.refresh_from_db()
    assert mine.replicas == 1


def test_the_console_lists_only_the_organizations_own(two: dict[str, Any]) -> None:
    deploy(two["image"], "alpha-only", organization=two["alpha"], converge=False)
    deploy(two["image"], "beta-only", organization=two["beta"], converge=False)
    client = Client()
    client.force_login(two["alice"])

    page = client.get("/deployments/").content + client.get("/").content + client.get("/console/events/").content
    export = b"".join(client.get("/console/events/export.csv").streaming_content)

    assert b"alpha-only" in page and b"beta-only" not in page
    assert b"beta-only" not in export
    assert Event.objects.filter(organization=two["beta"]).exists()
