"""``/api/images/``: list (synced from the engine), detail, delete, and who may call them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from containers import engine
from containers.images import sync_images
from containers.models import Deployment, Event, Image
from containers.tests.image_tags import demo_tag

MIB = 1024 * 1024


def deployment_of(image: Image, name: str) -> Deployment:
    """A deployment row only: enough to make the image "in use", nothing runs."""
    return Deployment.objects.create(name=name, image=image, replicas=0, memory_limit_bytes=16 * MIB)


def test_it_lists_images_loaded_on_the_engine_by_hand(api_client: APIClient, demo_image: Image) -> None:
    with demo_tag("by-hand") as reference:
        response = api_client.get("/api/images/")

        assert response.status_code == 200
        items = {item["reference"]: item for item in response.json()["results"]}
        assert reference in items
        item = items[reference]
        assert item["source"] == "engine"
        assert item["docker_id"] == demo_image.docker_id
        assert item["size_bytes"] > 0 and item["created"]
        assert item["used_by"] == []


def test_each_image_names_the_deployments_using_it(api_client: APIClient, demo_image: Image) -> None:
    deployment_of(demo_image, "web-a")
    deployment_of(demo_image, "web-b")

    response = api_client.get(f"/api/images/{demo_image.pk}/")

    assert response.status_code == 200
    assert sorted(response.json()["used_by"]) == ["web-a", "web-b"]
    assert set(response.json()) == {"id", "reference", "docker_id", "size_bytes", "created", "source", "used_by"}


def test_it_filters_by_part_of_the_reference(api_client: APIClient, demo_image: Image) -> None:
    with demo_tag("filter-me") as reference:
        response = api_client.get("/api/images/", {"reference": "FILTER-ME"})

    assert response.status_code == 200
    assert [item["reference"] for item in response.json()["results"]] == [reference]


def test_it_forgets_images_removed_from_the_engine_unless_a_deployment_uses_them(
    api_client: APIClient, demo_image: Image
) -> None:
    with demo_tag("gone") as gone, demo_tag("kept") as kept:
        sync_images()
        deployment_of(Image.objects.get(reference=kept), "keeps-it")
    # Both tags are gone from the engine now.

    references = {item["reference"] for item in api_client.get("/api/images/").json()["results"]}

    assert gone not in references and kept in references
    assert Event.objects.filter(kind="image.deleted", message__contains=gone).exists()


def test_listing_costs_the_same_queries_for_2_or_50_images(api_client: APIClient, demo_image: Image) -> None:
    def make(count: int) -> None:
        # Rows used by deployments stay listed even though the engine does not hold them.
        for index in range(count):
            image = Image.objects.create(reference=f"orchestrator-test/n1-{count}-{index}:1")
            deployment_of(image, f"n1-{count}-{index}")

    def queries_for_listing() -> int:
        api_client.get("/api/images/")  # settles what the engine holds, so both counts sync nothing new
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/images/", {"reference": "n1-"}).status_code == 200
        return len(ctx.captured_queries)

    make(2)
    few = queries_for_listing()
    make(48)
    many = queries_for_listing()

    assert many == few


def test_deleting_an_unused_image_removes_it_from_the_engine_and_the_list(
    api_client: APIClient, demo_image: Image
) -> None:
    with demo_tag("delete-me") as reference:
        sync_images()
        image = Image.objects.get(reference=reference)

        response = api_client.delete(f"/api/images/{image.pk}/")

        assert response.status_code == 204
        with pytest.raises(engine.ImageNotFound):
            engine.inspect_image(reference)
        assert not Image.objects.filter(pk=image.pk).exists()
        event = Event.objects.get(kind="image.deleted")
        assert event.actor == "alice" and reference in event.message
        # The demo image it was a tag of is still there.
        assert engine.inspect_image(demo_image.reference).id == demo_image.docker_id


def test_deleting_an_image_a_deployment_uses_is_refused_with_409(api_client: APIClient, demo_image: Image) -> None:
    with demo_tag("in-use") as reference:
        sync_images()
        image = Image.objects.get(reference=reference)
        deployment_of(image, "uses-it")

        response = api_client.delete(f"/api/images/{image.pk}/")

        assert response.status_code == 409
        assert "uses-it" in response.json()["error"]
        assert engine.inspect_image(reference).id == image.docker_id
        assert Image.objects.filter(pk=image.pk).exists()
        refused = Event.objects.get(kind="request.refused")
        assert refused.actor == "alice" and "uses-it" in refused.message


def test_an_unknown_image_is_404(api_client: APIClient, db: None) -> None:
    assert api_client.get("/api/images/999999/").status_code == 404
    assert api_client.delete("/api/images/999999/").status_code == 404


def test_images_cannot_be_created_or_changed_through_the_collection(api_client: APIClient, demo_image: Image) -> None:
    assert api_client.post("/api/images/", {"reference": "x:1"}, format="json").status_code == 405
    assert api_client.put(f"/api/images/{demo_image.pk}/", {}, format="json").status_code == 405
    assert api_client.get("/api/images/upload/").status_code == 405
    assert api_client.get("/api/images/pull/").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/images/"),
        ("get", "/api/images/1/"),
        ("delete", "/api/images/1/"),
        ("post", "/api/images/upload/"),
        ("post", "/api/images/pull/"),
        ("get", "/images"),
        ("get", "/images/"),
    ],
)
def test_anonymous_users_get_nothing(anon_client: APIClient, db: None, method: str, path: str) -> None:
    response = getattr(anon_client, method)(path)

    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_a_logged_in_console_user_may_list(client: Any, user: Any, demo_image: Image) -> None:
    client.force_login(user)

    assert client.get("/api/images/").status_code == 200
