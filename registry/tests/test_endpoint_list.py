"""GET /registry/endpoints: every endpoint, filtered by service or status."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def three() -> None:
    ServiceEndpoint.objects.create(service="billing", host="127.0.0.1", port=9000, status="healthy")
    ServiceEndpoint.objects.create(service="billing", host="127.0.0.1", port=9001, status="draining")
    ServiceEndpoint.objects.create(service="search", host="10.0.0.5", port=9200, status="healthy")


def test_it_lists_every_endpoint(api_client: APIClient, three: None) -> None:
    body = api_client.get("/registry/endpoints").json()

    assert body["count"] == 3
    assert [e["port"] for e in body["endpoints"]] == [9000, 9001, 9200]


def test_it_filters_by_service(api_client: APIClient, three: None) -> None:
    body = api_client.get("/registry/endpoints?service=billing").json()

    assert {e["port"] for e in body["endpoints"]} == {9000, 9001}


def test_it_filters_by_status(api_client: APIClient, three: None) -> None:
    body = api_client.get("/registry/endpoints?status=healthy&service=billing").json()

    assert [e["port"] for e in body["endpoints"]] == [9000]


def test_it_refuses_an_unknown_status_filter(api_client: APIClient, three: None) -> None:
    response = api_client.get("/registry/endpoints?status=sick")

    assert response.status_code == 400
    assert "status" in response.json()["fields"]
