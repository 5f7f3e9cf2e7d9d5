"""Every refused change leaves an event, without copying the request's values."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from containers.models import Event

pytestmark = pytest.mark.django_db


def test_a_rejected_start_records_who_and_which_field(api_client: APIClient, demo_image: Any) -> None:
    response = api_client.post("/containers/orchestrator-demo:latest/start", {"count": 0}, format="json")

    assert response.status_code == 400
    event = Event.objects.get(kind="request.refused")
    assert event.actor == "alice"
    assert event.after == {"fields": ["count"]}
    assert "/containers/orchestrator-demo:latest/start" in event.message


def test_a_body_that_is_not_json_is_recorded_too(api_client: APIClient) -> None:
    response = api_client.post("/api/deployments/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert Event.objects.filter(kind="request.refused", actor="alice").count() == 1


def test_secret_values_of_a_refused_request_are_not_recorded(api_client: APIClient, demo_image: Any) -> None:
    body = {"name": "refused", "image": "orchestrator-demo:latest", "env": {"TOKEN": {"nested": "hunter2-secret"}}}

    response = api_client.post("/api/deployments/", body, format="json")

    assert response.status_code == 400
    assert Event.objects.filter(kind="request.refused").exists()
    assert not any("hunter2-secret" in f"{e.message}{e.before}{e.after}" for e in Event.objects.all())


def test_a_bad_filter_on_a_read_records_nothing(api_client: APIClient) -> None:
    response = api_client.get("/api/events/?created_after=yesterday-ish")

    assert response.status_code == 400
    assert not Event.objects.filter(kind="request.refused").exists()
