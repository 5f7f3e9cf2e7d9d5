"""The /api/endpoints/ viewset: filtered, paginated, and calling the same actions as the seed paths."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from containers.models import Event
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db


def make(count: int, service: str = "billing", status: str = "healthy") -> None:
    ServiceEndpoint.objects.bulk_create(
        ServiceEndpoint(service=service, host="127.0.0.1", port=10000 + i, status=status) for i in range(count)
    )


def test_it_lists_paginated_50_to_a_page(api_client: APIClient) -> None:
    make(51)

    body = api_client.get("/api/endpoints/").json()

    assert body["count"] == 51
    assert len(body["results"]) == 50 and body["next"]
    assert len(api_client.get(body["next"]).json()["results"]) == 1


def test_it_filters_by_service_and_status(api_client: APIClient) -> None:
    make(2, service="billing", status="healthy")
    make(1, service="search", status="draining")

    assert api_client.get("/api/endpoints/?service=search").json()["count"] == 1
    assert api_client.get("/api/endpoints/?status=healthy").json()["count"] == 2
    assert api_client.get("/api/endpoints/?status=sick").status_code == 400


def test_listing_50_costs_as_many_queries_as_listing_2(
    api_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    make(2)
    with django_assert_max_num_queries(10) as two:
        api_client.get("/api/endpoints/")
    make(48, service="other")

    with django_assert_max_num_queries(len(two.captured_queries)):
        assert api_client.get("/api/endpoints/").json()["count"] == 50


def test_it_registers_and_refuses_duplicates_with_409(api_client: APIClient) -> None:
    body = {"service": "billing", "host": "127.0.0.1", "port": 9000}

    assert api_client.post("/api/endpoints/", body, format="json").status_code == 201
    response = api_client.post("/api/endpoints/", body, format="json")
    assert response.status_code == 409
    assert set(response.json()["fields"]) == {"service", "host", "port"}


def test_it_sets_a_status_through_its_action(api_client: APIClient) -> None:
    make(1)
    endpoint = ServiceEndpoint.objects.get()

    response = api_client.put(f"/api/endpoints/{endpoint.pk}/status/", {"status": "draining"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "draining"
    assert Event.objects.filter(kind="endpoint.status", actor="alice").count() == 1


def test_it_removes_an_endpoint(api_client: APIClient) -> None:
    make(1)
    endpoint = ServiceEndpoint.objects.get()

    assert api_client.delete(f"/api/endpoints/{endpoint.pk}/").status_code == 204
    assert not ServiceEndpoint.objects.exists()
    assert Event.objects.filter(kind="endpoint.removed").count() == 1


def test_it_answers_404_for_an_unknown_endpoint(api_client: APIClient) -> None:
    assert api_client.get("/api/endpoints/999999/").status_code == 404
    assert api_client.delete("/api/endpoints/abc/").status_code == 404


def test_it_has_no_generic_update(api_client: APIClient) -> None:
    make(1)
    endpoint = ServiceEndpoint.objects.get()

    assert api_client.patch(f"/api/endpoints/{endpoint.pk}/", {"port": 1}, format="json").status_code == 405


def test_it_refuses_anonymous_users(anon_client: APIClient) -> None:
    assert anon_client.get("/api/endpoints/").status_code in (401, 403)
