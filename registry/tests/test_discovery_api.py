"""GET /api/services/ and /api/services/{name}/ on the API server: shape, ETag and 304, bad input."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry import endpoints, watch
from registry.models import Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing() -> Service:
    endpoints.register(service="billing", host="127.0.0.1", port=9101, actor="tests", status="healthy")
    endpoints.register(service="billing", host="127.0.0.1", port=9102, actor="tests")
    return Service.objects.get(name="billing")


def test_it_lists_a_service_with_its_lb_url_and_healthy_endpoints(api_client: APIClient, billing: Service) -> None:
    response = api_client.get("/api/services/billing/")

    assert response.status_code == 200
    body = response.json()
    assert body["lb_url"] == f"http://127.0.0.1:{billing.frontend_port}/"
    assert [(e["address"], e["port"], e["status"]) for e in body["endpoints"]] == [("127.0.0.1", 9101, "healthy")]
    assert {"container", "since", "id"} <= set(body["endpoints"][0])
    assert body["index"] == billing.modify_index == int(response["X-Registry-Index"])
    assert len(api_client.get("/api/services/billing/?status=any").json()["endpoints"]) == 2


def test_the_index_grows_with_every_change_and_the_etag_follows(api_client: APIClient, billing: Service) -> None:
    first = api_client.get("/api/services/billing/")
    assert api_client.get("/api/services/billing/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    endpoints.register(service="billing", host="127.0.0.1", port=9103, actor="tests", status="healthy")
    second = api_client.get("/api/services/billing/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert second.status_code == 200
    assert second.json()["index"] > first.json()["index"]
    assert second["ETag"] != first["ETag"]


def test_the_list_counts_endpoints_and_carries_the_global_index(api_client: APIClient, billing: Service) -> None:
    response = api_client.get("/api/services/")

    assert response.status_code == 200
    body = response.json()
    assert body["services"] == [
        {
            "name": "billing",
            "lb_url": billing.lb_url,
            "index": billing.modify_index,
            "endpoints": 1,
            "endpoints_total": 2,
        }
    ]
    assert body["index"] >= billing.modify_index
    assert api_client.get("/api/services/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_blocking_query_whose_index_is_behind_answers_at_once(api_client: APIClient, billing: Service) -> None:
    response = api_client.get(f"/api/services/billing/?index={billing.modify_index - 1}&wait=10s")

    assert response.status_code == 200 and response.json()["index"] == billing.modify_index


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("index=abc", "index"),
        ("index=-1", "index"),
        ("wait=forever&index=1", "wait"),
        ("wait=11m&index=1", "wait"),
        ("status=sleepy", "status"),
    ],
)
def test_it_refuses_bad_query_parameters_naming_them(
    api_client: APIClient, billing: Service, query: str, field: str
) -> None:
    response = api_client.get(f"/api/services/billing/?{query}")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert field in api_client.get(f"/api/services/?{query}").json()["fields"]


def test_an_unknown_service_is_a_404_naming_it(api_client: APIClient) -> None:
    response = api_client.get("/api/services/nothing-here/")

    assert response.status_code == 404
    assert "nothing-here" in response.json()["error"] and "name" in response.json()["fields"]


def test_it_needs_a_login(anon_client: APIClient, billing: Any) -> None:
    assert anon_client.get("/api/services/").status_code == 401
    assert anon_client.get("/api/services/billing/").status_code == 401
    assert anon_client.post("/api/services/").status_code == 401


def test_post_is_not_allowed(api_client: APIClient) -> None:
    assert api_client.post("/api/services/").status_code == 405


def test_the_watch_thread_stops_and_the_next_blocking_query_starts_it_again(
    api_client: APIClient, billing: Service
) -> None:
    def watch_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "registry-watch" and t.is_alive()]

    current = f"/api/services/billing/?index={billing.modify_index}&wait=100ms"
    assert api_client.get(current).status_code == 200  # held to its timeout: the hub's thread follows the index
    assert len(watch_threads()) == 1

    watch.stop()
    assert watch_threads() == []

    assert api_client.get(current).status_code == 200
    assert len(watch_threads()) == 1
