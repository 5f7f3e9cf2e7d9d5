"""The deployment pages say what the reconciler is doing while the counts differ ("stopping 2"), instead
of a state it is about to leave; a 0-replica create says that nothing will start."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Container, Deployment, Image

pytestmark = pytest.mark.browser


@pytest.fixture
def being_stopped(engine_ready: None, transactional_db: Any) -> Deployment:
    """Just stopped: 0 desired, its two containers not yet removed (no worker runs in this test)."""
    image = Image.objects.create(reference="orchestrator-test/progress:1")
    deployment = Deployment.objects.create(
        name="winding-down", image=image, replicas=0, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY,
        state=Deployment.State.RUNNING,
    )  # fmt: skip
    for n in range(2):
        Container.objects.create(
            deployment=deployment, docker_id=uuid.uuid4().hex * 2, name=f"winding-down-{n}", status="running"
        )
    return deployment


def test_a_stopped_deployment_with_containers_left_says_stopping(console: Page, being_stopped: Deployment) -> None:
    console.goto(f"/deployments/{being_stopped.pk}/")
    expect(console.locator("#deployment-status .state")).to_have_text("stopping 2")
    console.goto("/deployments/")
    expect(console.locator(f"#deployment-row-{being_stopped.pk} .state")).to_have_text("stopping 2")
    expect(console.get_by_text("running", exact=True)).to_have_count(0)


def test_a_create_with_0_replicas_says_nothing_will_start(console: Page, demo_image: Any) -> None:
    console.goto("/deployments/new/")
    console.get_by_label("Name").fill("idle")
    console.get_by_label("Image").select_option(label=settings.DEMO_IMAGE)
    console.get_by_label("Replicas").fill("0")
    console.get_by_role("button", name="Create deployment").click()
    expect(console.get_by_text("Created idle with 0 replicas: nothing runs until you scale it up.")).to_be_visible()
    expect(console.get_by_text("reconcile is starting")).to_have_count(0)
