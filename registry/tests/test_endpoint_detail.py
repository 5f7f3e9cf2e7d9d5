"""GET and DELETE /registry/endpoints/{id}."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from containers.models import Event
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint() -> ServiceEndpoint:
    return ServiceEndpoint.objects.create(service="billing", host="127.0.0.1", port=9000)


def test_it_shows_one_endpoint(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    response = api_client.get(f"/registry/endpoints/{endpoint.pk}")

    assert response.status_code == 200
    assert response.json()["port"] == 9000


def test_it_removes_the_endpoint(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    response = api_client.delete(f"/registry/endpoints/{endpoint.pk}")

    assert response.status_code == 200
    assert response.json()["removed"]["id"] == endpoint.pk
    assert not ServiceEndpoint.objects.exists()


def test_removing_writes_an_event(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    api_client.delete(f"/registry/endpoints/{endpoint.pk}/")

    event = Event.objects.get(kind="endpoint.removed")
    assert event.actor == "alice"
    assert event.before["service"] == "billing"


@pytest.mark.parametrize("pk", ["999999", "abc"])
def test_it_answers_404_for_an_unknown_endpoint(api_client: APIClient, pk: str) -> None:
    response = api_client.delete(f"/registry/endpoints/{pk}")

    assert response.status_code == 404
    assert "error" in response.json()


def test_it_refuses_put(api_client: APIClient, endpoint: ServiceEndpoint) -> None:
    assert api_client.put(f"/registry/endpoints/{endpoint.pk}", {}, format="json").status_code == 405


def test_it_refuses_anonymous_users(anon_client: APIClient, endpoint: ServiceEndpoint) -> None:
    assert anon_client.delete(f"/registry/endpoints/{endpoint.pk}").status_code in (401, 403)
    assert anon_client.get(f"/registry/endpoints/{endpoint.pk}").status_code in (401, 403)
    assert ServiceEndpoint.objects.exists()
