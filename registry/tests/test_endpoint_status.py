"""PUT /registry/endpoints/{id}/status: mark an endpoint healthy, unhealthy, draining or unknown."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from containers.models import Event
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint() -> ServiceEndpoint:
    return ServiceEndpoint.objects.create(service="billing", host="127.0.0.1", port=9000)


@pytest.mark.parametrize("status", ["healthy", "unhealthy", "draining"])
def test_it_sets_the_status(api_client: APIClient, endpoint: ServiceEndpoint, status: str) -> None:
    response = api_client.put(f"/registry/endpoints/{endpoint.pk}/status", {"status": status}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == status
    endpoint.refresh_from_db()
    assert endpoint.status == status


def test_it_writes_an_event_with_before_and_after(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    api_client.put(f"/registry/endpoints/{endpoint.pk}/status", {"status": "draining"}, format="json")

    event = Event.objects.get(kind="endpoint.status")
    assert event.actor == "alice"
    assert event.before == {"status": "unknown"}
    assert event.after["status"] == "draining" and event.after["id"] == endpoint.pk


def test_setting_the_same_status_again_writes_no_event(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    response = api_client.put(f"/registry/endpoints/{endpoint.pk}/status/", {"status": "unknown"}, format="json")

    assert response.status_code == 200
    assert not Event.objects.filter(kind="endpoint.status").exists()


@pytest.mark.parametrize("body", [{"status": "sick"}, {"status": ""}, {}, {"status": None}])
def test_it_refuses_other_values(api_client: APIClient, endpoint: ServiceEndpoint, body: dict[str, object]) -> None:
    response = api_client.put(f"/registry/endpoints/{endpoint.pk}/status", body, format="json")

    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    endpoint.refresh_from_db()
    assert endpoint.status == "unknown"


@pytest.mark.parametrize("pk", ["999999", "abc"])
def test_it_answers_404_for_an_unknown_endpoint(api_client: APIClient, pk: str) -> None:
    response = api_client.put(f"/registry/endpoints/{pk}/status", {"status": "healthy"}, format="json")

    assert response.status_code == 404
    assert "error" in response.json()


def test_it_refuses_get(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    assert api_client.get(f"/registry/endpoints/{endpoint.pk}/status").status_code == 405


def test_it_refuses_anonymous_users(anon_client: APIClient, endpoint: ServiceEndpoint) -> None:
    response = anon_client.put(f"/registry/endpoints/{endpoint.pk}/status", {"status": "healthy"}, format="json")

    assert response.status_code in (401, 403)
    endpoint.refresh_from_db()
    assert endpoint.status == "unknown"
