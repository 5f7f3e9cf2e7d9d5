"""``GET /api/services/{name}/traffic/`` (HAProxy's live view: 503 without it) and ``lb_url`` on a deployment."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from conftest import deploy
from registry import haproxy, loadbalancer
from registry.models import Service

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lb", "remove_test_containers")]


def test_traffic_shows_haproxy_s_view_and_is_a_503_when_haproxy_is_gone(
    demo_image: Any, api_client: APIClient, settings: Any, user: Any
) -> None:
    deployment = deploy(demo_image, "traffic", 2, container_port=8080)
    loadbalancer.sync()
    service = Service.objects.get(name="traffic")

    body = api_client.get("/api/services/traffic/traffic/").json()
    assert body["lb_url"] == service.lb_url and len(body["endpoints"]) == 2
    assert {e["haproxy"]["state"] for e in body["endpoints"]} == {"ready"}
    assert all({"sessions", "rate", "total", "check"} <= e["haproxy"].keys() for e in body["endpoints"])
    assert {e["container"] for e in body["endpoints"]} == set(deployment.containers.values_list("docker_id", flat=True))

    detail = api_client.get(f"/api/deployments/{deployment.pk}/").json()
    assert detail["lb_url"] == service.lb_url
    listed = api_client.get("/api/deployments/").json()["results"]
    assert [d["lb_url"] for d in listed if d["name"] == "traffic"] == [service.lb_url]
    console = Client()
    console.force_login(user)
    assert f'class="lb-url">{service.lb_url}</a>' in console.get(f"/deployments/{deployment.pk}/").content.decode()

    haproxy.stop()
    down = api_client.get("/api/services/traffic/traffic/")
    assert down.status_code == 503 and "HAProxy does not answer" in down.json()["error"]
    # Discovery does not need HAProxy: it keeps answering from the registry.
    assert api_client.get("/api/services/traffic/").status_code == 200

    settings.LB_ENABLED = False
    off = api_client.get("/api/services/traffic/traffic/")
    assert off.status_code == 503 and "disabled" in off.json()["error"]
    assert api_client.get(f"/api/deployments/{deployment.pk}/").json()["lb_url"] is None

    unknown = api_client.get("/api/services/nope/traffic/")
    assert unknown.status_code == 404 and "name" in unknown.json()["fields"]
    assert APIClient().get("/api/services/traffic/traffic/").status_code in (401, 403)
