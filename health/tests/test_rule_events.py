"""Probes, alert rules and autoscalers change through one action function each: every create, change
and delete through the API is an event of its user, and no event keeps where alerts go."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import deploy
from containers.models import Event, Image

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "prefix", "body", "change"),
    [
        ("/api/probes/", "probe", {"kind": "liveness", "type": "tcp"}, {"failure_threshold": 5}),
        (
            "/api/alert-rules/",
            "alert_rule",
            {"name": "deaths", "event_kinds": ["container.died"], "webhook_url": "https://hooks.example.com/t0ken"},
            {"cooldown_s": 30},
        ),
        ("/api/autoscalers/", "autoscaler", {"min_replicas": 1, "max_replicas": 4}, {"max_replicas": 6}),
    ],
)
def test_each_change_through_the_api_is_an_event_of_its_user(
    demo_image: Image, api_client: APIClient, user: Any, path: str, prefix: str, body: dict, change: dict
) -> None:
    deployment = deploy(demo_image, f"rules-{prefix.replace('_', '-')}", converge=False)

    created = api_client.post(path, {**body, "deployment": deployment.name}, format="json")
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert api_client.patch(f"{path}{rule_id}/", change, format="json").status_code == 200
    assert api_client.delete(f"{path}{rule_id}/").status_code == 204

    events = list(Event.objects.filter(kind__startswith=f"{prefix}.").order_by("id"))
    assert [e.kind for e in events] == [f"{prefix}.created", f"{prefix}.updated", f"{prefix}.deleted"]
    assert {e.actor for e in events} == {user.username}
    assert all(e.deployment_id == deployment.pk for e in events)
    key, value = next(iter(change.items()))
    assert events[1].after[key] == value and events[1].before[key] != value
    assert "t0ken" not in str([(e.before, e.after, e.message) for e in events])
