"""The console's Services page: each service's LB URL, its endpoints and what HAProxy says of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from registry import endpoints, haproxy, loadbalancer
from registry.models import Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_each_service_with_its_endpoints_and_their_load_balancer_state(lb: None, console: Client) -> None:
    endpoints.register(service="shop", host="127.0.0.1", port=9501, actor="tests", status="healthy")
    endpoints.register(service="shop", host="127.0.0.1", port=9502, actor="tests", status="draining")
    endpoints.register(service="shop", host="127.0.0.1", port=9503, actor="tests", status="unhealthy")
    loadbalancer.sync()

    page = console.get("/console/services/").content.decode()

    assert Service.objects.get(name="shop").lb_url in page
    assert 'data-status="healthy" data-lb="ready"' in page
    assert 'data-status="draining" data-lb="drain"' in page
    assert 'data-status="unhealthy" data-lb="out"' in page
    assert "does not answer" not in page


def test_it_says_when_haproxy_is_down_and_still_lists_the_registry(lb: None, console: Client) -> None:
    endpoints.register(service="shop", host="127.0.0.1", port=9501, actor="tests", status="healthy")
    loadbalancer.sync()
    haproxy.stop()

    page = console.get("/console/services/rows/", HTTP_HX_REQUEST="true").content.decode()

    assert "HAProxy does not answer" in page
    assert "127.0.0.1:9501" in page


def test_it_needs_a_login() -> None:
    response = Client().get("/console/services/")

    assert response.status_code == 302 and "/login/" in response["Location"]
