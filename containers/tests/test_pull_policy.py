"""Pulls only from allowed registries (``IMAGE_PULL_REGISTRIES``; empty allows any), and a failed pull
tells a user only that it failed: the engine's text (which can map the host's network) goes to staff."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from containers import images
from containers.models import Event, Image
from containers.tests.image_tags import demo_tag, unique_reference
from containers.tests.registries import free_port, refusing_port
from containers.tests.test_images_pull import push, registry  # noqa: F401  (registry is a fixture)

pytestmark = pytest.mark.django_db

URL = "/api/images/pull/"


def test_the_registry_of_a_reference() -> None:
    assert images.registry_of("app:1") == "docker.io"
    assert images.registry_of("team/app:1") == "docker.io"
    assert images.registry_of("registry.example:5000/team/app:1") == "registry.example:5000"
    assert images.registry_of("127.0.0.1:5000/app:1") == "127.0.0.1:5000"
    assert images.registry_of("localhost/app:1") == "localhost"


def test_a_pull_from_a_registry_not_on_the_allow_list_is_refused_before_the_engine_is_asked(
    api_client: APIClient, settings: Any
) -> None:
    settings.IMAGE_PULL_REGISTRIES = ["registry.example:5000"]
    target = f"127.0.0.1:{free_port()}"

    response = api_client.post(URL, {"reference": f"{target}/app:1"}, format="json")

    assert response.status_code == 403
    assert "reference" in response.json()["fields"] and target in response.json()["error"]
    assert Event.objects.filter(kind="request.refused", message__contains="not allowed").exists()


def test_an_allowed_registry_pulls(
    api_client: APIClient,
    settings: Any,
    demo_image: Image,
    registry: str,  # noqa: F811
) -> None:
    settings.IMAGE_PULL_REGISTRIES = [registry]
    with demo_tag("allowed", registry=registry) as reference:
        push(reference)
        response = api_client.post(URL, {"reference": reference}, format="json")

    assert response.status_code == 201, response.json()


def test_a_failed_pull_shows_the_engines_text_only_to_staff(api_client: APIClient, engine_ready: None) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    staff = APIClient()
    staff.force_authenticate(admin)

    with refusing_port() as port:
        reference = unique_reference("nowhere", registry=f"127.0.0.1:{port}")
        user_answer = api_client.post(URL, {"reference": reference}, format="json").json()
        staff_answer = staff.post(URL, {"reference": reference}, format="json").json()

    generic = f"pulling {reference} failed: {images.GENERIC_PULL_FAILURE}"
    assert user_answer["error"] == generic and "detail" not in user_answer
    assert "refused" not in str(user_answer).replace("refused the request", "")
    assert "not reachable" in staff_answer["error"] and "connection refused" in staff_answer["detail"]
    # The event log, readable by every user, keeps the generic text for the user's attempt.
    assert Event.objects.filter(kind="request.refused", actor="alice", message=generic).exists()
