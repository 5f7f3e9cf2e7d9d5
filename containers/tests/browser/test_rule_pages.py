"""The console pages for alert rules, autoscalers, probes and service endpoints in Chromium: reached from
the navigation; create with a preview that saves nothing; a bad value shown at its field; edit; delete
after a confirmation. The same serializers as the API decide what is valid."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Deployment, Image
from health.models import AlertRule, Autoscaler, Probe
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.browser


@pytest.fixture
def web(engine_ready: None, transactional_db: Any) -> Deployment:
    image = Image.objects.create(reference="orchestrator-test/rules:1")
    return Deployment.objects.create(
        name="web", image=image, replicas=2, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY, container_port=8080
    )


def open_from_navigation(page: Page, name: str) -> None:
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Rules", exact=True).click()
    nav.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_an_alert_rule_is_previewed_refused_at_its_field_created_edited_and_deleted(
    console: Page, web: Deployment
) -> None:
    open_from_navigation(console, "Alert rules")
    console.get_by_role("button", name="New alert rule").click()
    console.get_by_label("Name", exact=True).fill("web down")
    console.get_by_label("container.died — a container died").check()
    console.get_by_label("Deployment (optional)").select_option("web")
    console.get_by_label("Webhook URL").fill("ftp://example.com/hook")

    console.get_by_role("button", name="Create alert rule").click()
    webhook = console.get_by_label("Webhook URL")
    expect(webhook).to_have_attribute("aria-invalid", "true")
    expect(webhook).to_be_focused()
    expect(console.locator("#id_webhook_url_error")).to_be_visible()
    assert not AlertRule.objects.exists()

    webhook.fill("https://hooks.example.com/web")  # not loopback: internal addresses are refused (SSRF)
    console.get_by_role("button", name="Preview").click()
    preview = console.locator(".plan-preview")
    expect(preview).to_contain_text("On container.died, for deployment web: a POST to https://hooks.example.com/web.")
    assert not AlertRule.objects.exists()  # a preview saves nothing

    console.get_by_role("button", name="Create alert rule").click()
    expect(console.get_by_role("status").filter(has_text="Created alert rule web down.")).to_be_visible()
    row = console.locator("table.resource-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("container.died")

    console.get_by_role("button", name="Edit alert rule web down").click()
    console.get_by_label("Cooldown (s)").fill("60")
    console.get_by_role("button", name="Save changes").click()
    expect(console.get_by_role("status").filter(has_text="Saved alert rule web down.")).to_be_visible()
    assert AlertRule.objects.get().cooldown_s == 60

    console.get_by_role("button", name="Delete alert rule web down…").click()
    console.get_by_role("button", name="Delete alert rule").click()
    expect(console.get_by_text("No alert rules yet")).to_be_visible()
    assert not AlertRule.objects.exists()


def test_an_autoscaler_previews_what_it_would_do_and_refuses_min_above_max(console: Page, web: Deployment) -> None:
    open_from_navigation(console, "Autoscalers")
    console.get_by_role("button", name="New autoscaler").click()
    console.get_by_label("Deployment").select_option("web")
    console.get_by_label("Fewest replicas").fill("5")
    console.get_by_label("Most replicas").fill("3")
    console.get_by_role("button", name="Preview").click()
    expect(console.get_by_label("Fewest replicas")).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#id_min_replicas_error")).to_have_text("must not be above max_replicas")
    expect(console.locator(".plan-preview")).to_have_count(0)  # no plan for a refused request

    console.get_by_label("Fewest replicas").fill("1")
    console.get_by_role("button", name="Preview").click()
    expect(console.locator(".plan-preview")).to_contain_text("Keeps web between 1 and 3 replicas")
    console.get_by_role("button", name="Create autoscaler").click()
    expect(console.get_by_role("status").filter(has_text="Created autoscaler of web.")).to_be_visible()
    assert Autoscaler.objects.get().max_replicas == 3


def test_a_probe_is_created_and_its_duplicate_refused(console: Page, web: Deployment) -> None:
    Probe.objects.create(deployment=web, kind="liveness")
    open_from_navigation(console, "Probes")
    console.get_by_role("button", name="New probe").click()
    console.get_by_label("Deployment").select_option("web")
    console.get_by_label("Kind").select_option("readiness")
    console.get_by_label("Path").fill("/ready")
    console.get_by_role("button", name="Preview").click()
    expect(console.locator(".plan-preview")).to_contain_text(
        "GET /ready expecting 200 on each running container of web"
    )
    console.get_by_role("button", name="Create probe").click()
    expect(console.get_by_role("status").filter(has_text="Created probe readiness of web.")).to_be_visible()
    assert Probe.objects.filter(kind="readiness", path="/ready").exists()


def test_a_service_endpoint_is_registered_its_status_changed_and_removed(console: Page, web: Deployment) -> None:
    open_from_navigation(console, "Service endpoints")
    console.get_by_role("button", name="New service endpoint").click()
    console.get_by_label("Service").fill("billing")
    console.get_by_label("Host").fill("http://127.0.0.1")
    console.get_by_label("Port").fill("9000")
    console.get_by_role("button", name="Create service endpoint").click()
    expect(console.get_by_label("Host")).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#id_host_error")).to_contain_text("without scheme, port or path")

    console.get_by_label("Host").fill("127.0.0.1")
    console.get_by_role("button", name="Create service endpoint").click()
    expect(console.get_by_role("status").filter(has_text="Created service endpoint")).to_be_visible()
    endpoint = ServiceEndpoint.objects.get(service="billing")

    console.get_by_role("button", name=f"Edit service endpoint {endpoint.service}").click()
    console.get_by_label("Status").select_option("healthy")
    console.get_by_role("button", name="Save changes").click()
    expect(console.locator("table.resource-list")).to_contain_text("healthy")
    console.get_by_role("button", name=f"Delete service endpoint {endpoint.service}…").click()
    console.get_by_role("button", name="Delete service endpoint").click()
    expect(console.get_by_text("No service endpoints registered.")).to_be_visible()
