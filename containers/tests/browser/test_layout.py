"""Every main page fits a 1280 px window in Chromium (no horizontal scroll), with the longest values the
console allows: a 63-character deployment name, a long registry reference, a long error, long events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Container, Deployment, Event, Image, record
from containers.tests.browser.pages import horizontal_overflow, save_screenshot

pytestmark = pytest.mark.browser

LONG_NAME = "a-deployment-name-as-long-as-the-form-allows-which-is-63-chars-x"[:63]
LONG_REFERENCE = "registry.example.internal:5000/a-team-with-a-long-name/an-application-called-this:2026.11.24-build"
LONG_ERROR = "the engine refused: " + "a very long explanation that never ends " * 8


@pytest.fixture
def crowded(engine_ready: None, transactional_db: Any) -> Deployment:
    image = Image.objects.create(reference=LONG_REFERENCE, size_bytes=123_456_789)
    deployment = Deployment.objects.create(
        name=LONG_NAME,
        image=image,
        replicas=12,
        cpu_limit=SMALL_CPU,
        memory_limit_bytes=SMALL_MEMORY,
        container_port=8080,
        command=["sh", "-c", "exec some-server --with-a-flag --and-another=" + "x" * 120],
        env={"A_RATHER_LONG_VARIABLE_NAME": "1", "ANOTHER_ONE": "2"},
        state=Deployment.State.BACKOFF,
        last_error=LONG_ERROR,
    )
    Container.objects.bulk_create(
        Container(
            deployment=deployment,
            docker_id=uuid.uuid4().hex * 2,
            name=f"{LONG_NAME}-{n:06x}",
            status=Container.Status.EXITED if n % 3 else Container.Status.RUNNING,
            exit_code=137 if n % 3 else None,
            host_port=40000 + n,
        )
        for n in range(12)
    )
    for _ in range(30):
        record(
            "deployment.updated",
            actor="a-user-with-a-long-name@example.com",
            message=f"{LONG_NAME} changed: " + "every field there is " * 10,
            deployment=deployment,
            before={"command": deployment.command, "env_keys": sorted(deployment.env)},
            after={"command": deployment.command + ["--more"], "env_keys": sorted(deployment.env)},
        )
    Event.objects.create(kind="container.died", actor="reconciler", container_docker_id="f" * 64, message="x" * 400)
    return deployment


def test_no_main_page_scrolls_sideways_at_1280_px(console: Page, crowded: Deployment) -> None:
    pages = {
        "dashboard": "/",
        "deployments": "/deployments/",
        "deployment-new": "/deployments/new/",
        "deployment": f"/deployments/{crowded.pk}/",
        "deployment-edit": f"/deployments/{crowded.pk}/edit/",
        "deployment-stop": f"/deployments/{crowded.pk}/stop/",
        "deployment-delete": f"/deployments/{crowded.pk}/delete/",
        "images": "/console/images/",
        "events": "/console/events/",
        "account": "/account/",
    }
    too_wide = {}
    for name, url in pages.items():
        console.goto(url)
        expect(console.get_by_role("heading", level=1)).to_be_visible()
        if (overflow := horizontal_overflow(console)) > 0:
            too_wide[url] = overflow
        save_screenshot(console, f"crowded-{name}")

    assert not too_wide, f"pages wider than 1280 px (by how many px): {too_wide}"
