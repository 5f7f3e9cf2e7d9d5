"""The console's rules pages (containers.views.resource_pages, mounted by health and registry): login,
methods, errors at their fields with nothing saved, and the same validation as the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from containers.models import Deployment, Image
from health.models import AlertRule, Autoscaler
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db

SLUGS = ["alert-rules", "autoscalers", "probes", "endpoints"]


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def web() -> Deployment:
    image = Image.objects.create(reference="orchestrator-test/rule-pages:1")
    return Deployment.objects.create(name="web", image=image, replicas=2, memory_limit_bytes=64 * 1024**2)


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("suffix", ["", "new/"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, slug: str, suffix: str) -> None:
    response = client.get(f"/console/{slug}/{suffix}")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("slug", SLUGS)
def test_the_list_and_the_empty_form_render(alice: Client, slug: str) -> None:
    assert alice.get(f"/console/{slug}/").status_code == 200
    assert alice.get(f"/console/{slug}/new/").status_code == 200
    assert alice.post(f"/console/{slug}/").status_code == 405


def test_a_bad_value_is_a_422_at_its_field_and_saves_nothing(alice: Client, web: Deployment) -> None:
    response = alice.post(
        "/console/autoscalers/new/",
        {
            "deployment": "web",
            "min_replicas": "5",
            "max_replicas": "3",
            "target_cpu_pct": "70",
            "stabilization_s": "60",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_min_replicas_error"' in html and "must not be above max_replicas" in html
    assert not Autoscaler.objects.exists()


def test_a_preview_validates_and_saves_nothing(alice: Client, web: Deployment) -> None:
    response = alice.post(
        "/console/alert-rules/new/",
        {
            "name": "down",
            "event_kinds": ["container.died"],
            "emails": "ops@example.com",
            "cooldown_s": "300",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    assert "an email to ops@example.com" in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_valid_form_saves_and_goes_back_to_the_list(alice: Client, web: Deployment) -> None:
    response = alice.post(
        "/console/alert-rules/new/",
        {"name": "down", "event_kinds": ["container.died", "probe.failed"], "deployment": "web",
         "emails": "ops@example.com\n\nlead@example.com", "cooldown_s": "60", "enabled": "true"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/console/alert-rules/"
    rule = AlertRule.objects.get()
    assert rule.event_kinds == ["container.died", "probe.failed"] and rule.emails == [
        "ops@example.com",
        "lead@example.com",
    ]
    assert rule.deployment == web and rule.cooldown_s == 60 and rule.enabled


def test_a_duplicate_endpoint_is_refused_at_its_fields(alice: Client) -> None:
    ServiceEndpoint.objects.create(service="billing", host="127.0.0.1", port=9000)
    response = alice.post(
        "/console/endpoints/new/",
        {"service": "billing", "host": "127.0.0.1", "port": "9000", "protocol": "http", "status": "unknown"},
    )
    assert response.status_code == 422
    assert "billing at 127.0.0.1:9000 is already registered" in response.content.decode()
    assert ServiceEndpoint.objects.count() == 1


def test_delete_asks_first_then_removes(alice: Client, web: Deployment) -> None:
    scaler = Autoscaler.objects.create(deployment=web)
    assert alice.get(f"/console/autoscalers/{scaler.pk}/delete/").status_code == 200
    assert Autoscaler.objects.exists()
    response = alice.post(f"/console/autoscalers/{scaler.pk}/delete/")
    assert response.status_code == 302 and not Autoscaler.objects.exists()
