"""POST /registry/endpoints: register an external service's address."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from containers.models import Event
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db


def post(client: APIClient, **body: Any) -> Any:
    return client.post(
        "/registry/endpoints", {"service": "billing", "host": "127.0.0.1", "port": 9000, **body}, format="json"
    )


def test_it_registers_an_endpoint_and_answers_with_the_row(api_client: APIClient) -> None:
    response = post(api_client, protocol="tcp", status="healthy", metadata={"team": "4"})

    assert response.status_code == 201
    body = response.json()
    endpoint = ServiceEndpoint.objects.get()
    assert body["id"] == endpoint.pk
    assert (body["service"], body["host"], body["port"], body["protocol"], body["status"]) == (
        "billing",
        "127.0.0.1",
        9000,
        "tcp",
        "healthy",
    )
    assert body["metadata"] == {"team": "4"}
    assert body["container"] is None


def test_status_and_protocol_default_to_unknown_and_http(api_client: APIClient) -> None:
    body = post(api_client).json()

    assert (body["status"], body["protocol"]) == ("unknown", "http")


def test_it_writes_an_event_naming_the_user(api_client: APIClient) -> None:
    post(api_client)

    event = Event.objects.get(kind="endpoint.registered")
    assert event.actor == "alice"
    assert event.after["service"] == "billing" and event.after["port"] == 9000


def test_it_accepts_a_trailing_slash_and_a_host_name(api_client: APIClient) -> None:
    response = api_client.post(
        "/registry/endpoints/", {"service": "db", "host": "DB-1.internal", "port": 5432}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["host"] == "db-1.internal"


def test_it_refuses_a_duplicate_naming_the_fields(api_client: APIClient) -> None:
    post(api_client)

    response = post(api_client)

    assert response.status_code == 409
    assert set(response.json()["fields"]) == {"service", "host", "port"}
    assert ServiceEndpoint.objects.count() == 1
    refusal = Event.objects.get(kind="request.refused")
    assert refusal.actor == "alice" and "already registered" in refusal.message


def test_the_same_address_may_serve_another_service(api_client: APIClient) -> None:
    post(api_client)

    assert post(api_client, service="metrics").status_code == 201


@pytest.mark.parametrize("port", [0, 65536, -1, "http", 80.5, None])
def test_it_refuses_a_bad_port(api_client: APIClient, port: Any) -> None:
    response = post(api_client, port=port)

    assert response.status_code == 400
    assert "port" in response.json()["fields"]
    assert not ServiceEndpoint.objects.exists()


@pytest.mark.parametrize(
    "host", ["", "http://127.0.0.1", "127.0.0.1:80", "a b", "-edge", "host/path", "999.1.1.1", "x" * 64, "[::1]"]
)
def test_it_refuses_a_host_that_is_neither_a_name_nor_an_ip(api_client: APIClient, host: str) -> None:
    response = post(api_client, host=host)

    assert response.status_code == 400
    assert "host" in response.json()["fields"]


def test_it_accepts_an_ipv6_address(api_client: APIClient) -> None:
    assert post(api_client, host="::1").json()["host"] == "::1"


@pytest.mark.parametrize(
    ("field", "value"), [("status", "sick"), ("protocol", "udp"), ("service", "Not A Slug"), ("metadata", ["a"])]
)
def test_it_refuses_other_bad_values_naming_the_field(api_client: APIClient, field: str, value: Any) -> None:
    response = post(api_client, **{field: value})

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_it_requires_a_service(api_client: APIClient) -> None:
    response = api_client.post("/registry/endpoints", {"host": "127.0.0.1", "port": 1}, format="json")

    assert response.status_code == 400
    assert "service" in response.json()["fields"]


def test_it_refuses_anonymous_users(anon_client: APIClient) -> None:
    assert post(anon_client).status_code in (401, 403)
    assert anon_client.get("/registry/endpoints").status_code in (401, 403)
    assert not ServiceEndpoint.objects.exists()
