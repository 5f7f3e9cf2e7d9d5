"""One autoscaler a deployment: a second one, created or moved onto it, is a 409 naming ``deployment``."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from containers.models import Deployment, Image
from health.models import Autoscaler

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_deployments() -> list[Deployment]:
    image = Image.objects.create(reference="orchestrator-test/scaled:1")
    return [
        Deployment.objects.create(name=name, image=image, replicas=1, memory_limit_bytes=16 * 1024**2)
        for name in ("web", "api")
    ]


def test_a_second_autoscaler_for_a_deployment_is_a_409(api_client: APIClient, two_deployments: list) -> None:
    body = {"deployment": "web", "min_replicas": 1, "max_replicas": 2}
    assert api_client.post("/api/autoscalers/", body, format="json").status_code == 201

    response = api_client.post("/api/autoscalers/", body, format="json")

    assert response.status_code == 409
    assert list(response.json()["fields"]) == ["deployment"]
    assert Autoscaler.objects.count() == 1


def test_moving_an_autoscaler_onto_a_deployment_that_has_one_is_a_409(
    api_client: APIClient, two_deployments: list
) -> None:
    web, api = two_deployments
    Autoscaler.objects.create(deployment=web)
    other = Autoscaler.objects.create(deployment=api)

    patch = api_client.patch(f"/api/autoscalers/{other.pk}/", {"deployment": "web"}, format="json")
    put = api_client.put(
        f"/api/autoscalers/{other.pk}/", {"deployment": "web", "min_replicas": 1, "max_replicas": 3}, format="json"
    )

    assert patch.status_code == 409 and put.status_code == 409
    other.refresh_from_db()
    assert other.deployment == api


def test_changing_an_autoscaler_s_own_deployment_settings_is_fine(api_client: APIClient, two_deployments: list) -> None:
    scaler = Autoscaler.objects.create(deployment=two_deployments[0])

    response = api_client.patch(
        f"/api/autoscalers/{scaler.pk}/", {"deployment": "web", "max_replicas": 5}, format="json"
    )

    assert response.status_code == 200 and response.json()["max_replicas"] == 5
