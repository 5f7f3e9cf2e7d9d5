"""The console works under its Content-Security-Policy in Chromium.

Every page (console, charts, Django admin, Swagger UI) is served with the policy, and the page
fixture fails a test on anything Chromium refuses under it; here each page is also made to do its
work (polling, charts, Swagger UI rendering the schema). And the policy is really enforced: an
inline script injected into a page is refused and never runs.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Container, Deployment, Event, Image

pytestmark = pytest.mark.browser


def policy_of(page: Page, path: str) -> str:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, f"{path}: {policy!r}"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    return policy


def test_every_page_is_served_under_the_policy_and_needs_nothing_it_refuses(
    console: Page, engine_ready: None, transactional_db: Any
) -> None:
    image = Image.objects.create(reference="orchestrator-test/csp:1")
    deployment = Deployment.objects.create(
        name="csp", image=image, replicas=1, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    container = Container.objects.create(
        deployment=deployment, docker_id="c" * 64, name="csp-1", status=Container.Status.RUNNING
    )
    Event.objects.create(kind="test.event", actor="tests", message="an event to list")
    get_user_model().objects.filter(username="alice").update(is_staff=True, is_superuser=True)

    # (A container's own page needs it on the engine: the lifecycle tests visit it, under the same fixture.)
    for path in [
        "/",
        "/deployments/",
        f"/deployments/{deployment.pk}/",
        "/deployments/new/",
        "/console/images/",
        "/console/events/",
        "/account/",
        "/console/health/",
        "/admin/",
        "/admin/containers/deployment/",
        f"/admin/containers/deployment/{deployment.pk}/change/",
    ]:
        policy_of(console, path)
        console.wait_for_load_state("networkidle")

    # The dashboard's parts refresh themselves (htmx polling) under the policy.
    policy_of(console, "/")
    with console.expect_response(lambda response: "/partials/" in response.url, timeout=10_000):
        pass
    # The charts page draws with uPlot from its own static files.
    policy_of(console, f"/console/health/containers/{container.pk}/")
    expect(console.locator(".uplot").first).to_be_visible()
    # Swagger UI starts from a script file and renders the schema.
    policy_of(console, "/api/docs/")
    expect(console.locator(".swagger-ui .info .title")).to_contain_text("Orchestrator API")
    expect(console.locator(".opblock").first).to_be_visible()


def test_the_browser_refuses_an_inline_script_the_policy_forbids(console: Page) -> None:
    console.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.appendChild(script);
        }"""
    )

    assert console.evaluate("() => window.injected === true") is False
    violations: list[str] = console.csp_violations  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while not violations and time.monotonic() < deadline:
        console.wait_for_timeout(100)
    assert any("script-src" in violation for violation in violations), violations
    violations.clear()  # the refusal this test provoked is the expected one
