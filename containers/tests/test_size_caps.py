"""What a client sends is capped where it is stored and where it is echoed: JSON 4xx naming the field,
short answers, nothing half-created."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from containers.models import Deployment, Event, Image
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db

HUGE = "x" * 100_000


def test_a_5000_character_image_name_is_a_short_json_400_naming_the_image(api_client: APIClient) -> None:
    name = "a" * 5000

    start = api_client.post(f"/containers/{name}/start", {"count": 1}, format="json")
    stop = api_client.post(f"/containers/{name}/stop", {}, format="json")

    for response in (start, stop):
        assert response.status_code == 400, response.content[:300]
        assert list(response.json()["fields"]) == ["image"]
        assert len(response.content) < 1000
    assert not Deployment.objects.exists()


def test_a_huge_invalid_value_is_not_echoed_back(api_client: APIClient) -> None:
    Image.objects.create(reference="orchestrator-test/caps:1")

    response = api_client.post(
        "/api/deployments/",
        {"name": "caps", "image": "orchestrator-test/caps:1", "restart_policy": HUGE, "command": HUGE},
        format="json",
    )

    assert response.status_code == 400
    assert "restart_policy" in response.json()["fields"]
    assert len(response.content) < 2000
    assert not Deployment.objects.exists()
    assert all(len(e.message) <= 2000 for e in Event.objects.all())


def test_a_huge_unknown_image_reference_is_not_echoed_back(api_client: APIClient) -> None:
    response = api_client.post("/api/deployments/", {"name": "caps", "image": HUGE}, format="json")

    assert response.status_code == 400 and "image" in response.json()["fields"]
    assert len(response.content) < 2000


def test_endpoint_metadata_over_4_kb_is_refused_and_nothing_is_stored(api_client: APIClient) -> None:
    body = {"service": "billing", "host": "127.0.0.1", "port": 9000, "metadata": {"blob": HUGE}}

    seed = api_client.post("/registry/endpoints", body, format="json")
    api = api_client.post("/api/endpoints/", body, format="json")

    for response in (seed, api):
        assert response.status_code == 400
        assert list(response.json()["fields"]) == ["metadata"]
        assert len(response.content) < 1000
    assert not ServiceEndpoint.objects.exists()


def test_endpoint_metadata_under_the_cap_is_kept(api_client: APIClient) -> None:
    body = {"service": "billing", "host": "127.0.0.1", "port": 9000, "metadata": {"zone": "a", "weight": 3}}

    response = api_client.post("/registry/endpoints", body, format="json")

    assert response.status_code == 201
    assert ServiceEndpoint.objects.get().metadata == {"zone": "a", "weight": 3}


def test_a_huge_number_in_a_filter_is_a_400_naming_it_on_every_database(api_client: APIClient) -> None:
    response = api_client.get("/api/events/?deployment=99999999999999999999")

    assert response.status_code == 400 and list(response.json()["fields"]) == ["deployment"]
