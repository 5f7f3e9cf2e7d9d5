"""Autoscaling: the decision as pure functions, then a real deployment made to burn CPU and idle again."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import deploy, docker_cli
from containers import reconcile
from containers.models import Container, Event, Image
from health import autoscale, sampler, sources
from health.models import Autoscaler

# --- pure functions ---------------------------------------------------------------------------


def test_the_recommendation_scales_replicas_by_load_over_target() -> None:
    assert autoscale.recommend(1, 100.0, 50.0, 1, 5) == 2
    assert autoscale.recommend(2, 75.0, 50.0, 1, 5) == 3
    assert autoscale.recommend(2, 50.0, 50.0, 1, 5) == 2


def test_the_recommendation_is_clamped_to_min_and_max() -> None:
    assert autoscale.recommend(3, 0.0, 50.0, 1, 5) == 1
    assert autoscale.recommend(4, 100.0, 10.0, 1, 5) == 5


def test_a_scale_up_happens_at_once() -> None:
    decision = autoscale.decide(1, 3, [(100.0, 3)], 100.0, 60, last_scaled_at=99.0)
    assert decision.replicas == 3


def test_a_scale_down_waits_while_a_higher_recommendation_is_in_the_window() -> None:
    window = [(50.0, 3), (90.0, 1), (100.0, 1)]
    assert autoscale.decide(3, 1, window, 100.0, 60, last_scaled_at=0.0).replicas == 3


def test_a_scale_down_goes_to_the_highest_recommendation_of_the_window() -> None:
    window = [(30.0, 4), (50.0, 2), (100.0, 1)]
    assert autoscale.decide(3, 1, window, 100.0, 60, last_scaled_at=0.0).replicas == 2


def test_a_scale_down_waits_a_window_after_the_last_scale() -> None:
    assert autoscale.decide(3, 1, [(100.0, 1)], 100.0, 60, last_scaled_at=70.0).replicas == 3
    assert autoscale.decide(3, 1, [(100.0, 1)], 100.0, 60, last_scaled_at=40.0).replicas == 1


# --- the real engine --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_autoscaler_scales_up_under_load_and_back_down_after(demo_image: Image) -> None:
    sources.reset_host()
    deployment = deploy(demo_image, "autoscaled", cpu_limit=Decimal("0.1"))
    Autoscaler.objects.create(
        deployment=deployment, min_replicas=1, max_replicas=2, target_cpu_pct=50, stabilization_s=3
    )
    busy = Container.objects.get(deployment=deployment)
    docker_cli("exec", "-d", busy.docker_id, "sh", "-c", "echo $$ > /tmp/burn.pid; while :; do :; done")

    for _ in range(3):
        sampler.sample_round()
        time.sleep(1.0)
    assert autoscale.run() == 1
    deployment.refresh_from_db()
    assert deployment.replicas == 2
    decision = Event.objects.get(kind="autoscale.decision")
    assert (decision.before, decision.after["replicas"]) == ({"replicas": 1}, 2)
    assert "scale up" in decision.message
    reconcile.converge(deployment.pk)
    assert Container.objects.filter(deployment=deployment, status="running").count() == 2

    docker_cli("exec", busy.docker_id, "sh", "-c", "kill $(cat /tmp/burn.pid)")
    sampler.sample_round()
    assert autoscale.run() == 0  # the window still remembers the load: no flapping
    deadline = time.monotonic() + 12
    while deployment.replicas == 2 and time.monotonic() < deadline:
        time.sleep(1.0)
        sampler.sample_round()
        autoscale.run()
        deployment.refresh_from_db()
    assert deployment.replicas == 1
    down = Event.objects.filter(kind="autoscale.decision").order_by("id").last()
    assert down is not None and down.after["replicas"] == 1 and "scale down" in down.message
    assert Event.objects.filter(kind="deployment.scaled", actor="autoscaler").count() == 2


# --- API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_autoscaler_is_created_and_filtered_by_deployment(demo_image: Image, api_client: APIClient) -> None:
    deploy(demo_image, "api-scaled", converge=False)
    response = api_client.post(
        "/api/autoscalers/",
        {"deployment": "api-scaled", "min_replicas": 1, "max_replicas": 4, "target_cpu_pct": 60},
        format="json",
    )
    assert response.status_code == 201, response.json()
    listed = api_client.get("/api/autoscalers/?deployment=api-scaled").json()["results"]
    assert [(a["deployment"], a["max_replicas"]) for a in listed] == [("api-scaled", 4)]
    assert api_client.get("/api/autoscalers/?deployment=other").json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_replicas": 3, "max_replicas": 2}, "min_replicas"),
        ({"target_cpu_pct": 0}, "target_cpu_pct"),
        ({"deployment": "missing"}, "deployment"),
    ],
)
def test_a_bad_autoscaler_is_refused_naming_the_field(
    demo_image: Image, api_client: APIClient, body: dict[str, Any], field: str
) -> None:
    deploy(demo_image, "api-bad-scaler", converge=False)
    response = api_client.post("/api/autoscalers/", {"deployment": "api-bad-scaler", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.django_db
def test_autoscalers_need_authentication(anon_client: APIClient) -> None:
    assert anon_client.get("/api/autoscalers/").status_code in (401, 403)
