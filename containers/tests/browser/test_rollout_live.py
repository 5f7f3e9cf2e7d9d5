"""A rollout seen live on a deployment's page, then a rollback from its revision history, in Chromium
against the real engine and worker: the page follows both without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import Process, deploy, wait_for
from containers.deployments import update_deployment
from containers.models import Container, Deployment

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("remove_test_containers")]

CONVERGED = 60_000
MARKER = "window.__marker"


def test_a_rollout_is_seen_live_and_rolled_back_from_the_history(
    console: Page, demo_image: Any, orchestrator_processes: dict[str, Process]
) -> None:
    page = console
    # min_ready_seconds: each new container waits 2 s once ready, so the progress is there to be seen.
    deployment = deploy(demo_image, "live-roll", 3, converge=False, container_port=8080, min_ready_seconds=2)
    wait_for(
        lambda: Container.objects.filter(deployment=deployment, ready_at__isnull=False).count() == 3,
        timeout=60,
        what="three ready containers",
    )
    page.goto(f"/deployments/{deployment.pk}/")
    rollout = page.locator("section.rollout")
    expect(rollout.locator(".rollout-phase")).to_have_attribute("data-phase", "complete", timeout=CONVERGED)
    page.evaluate(f"{MARKER} = 'the same page'")

    update_deployment(Deployment.objects.get(pk=deployment.pk), actor="tests", env={"REVISION": "2"})

    # While it rolls: revision 2 progressing, some updated, some old remaining; then complete.
    expect(rollout).to_contain_text("Revision 2", timeout=CONVERGED)
    expect(rollout.locator(".rollout-phase")).to_have_attribute("data-phase", "progressing", timeout=CONVERGED)
    expect(rollout).to_contain_text("old remaining")
    expect(rollout.locator(".rollout-phase")).to_have_attribute("data-phase", "complete", timeout=CONVERGED)
    expect(rollout).to_contain_text("3 ready of 3")
    expect(rollout).to_contain_text("0 old remaining")
    expect(page.locator("tr[data-revision='2']")).to_contain_text("env")
    assert page.evaluate(MARKER) == "the same page"

    page.get_by_role("button", name="Roll back to revision 1").click()
    expect(page.locator("section.rollout .rollout-phase")).to_have_attribute(
        "data-phase", "rolling_back", timeout=CONVERGED
    )
    expect(page.locator("section.rollout")).to_contain_text("Revision 3")
    expect(page.locator("section.rollout .rollout-phase")).to_have_attribute(
        "data-phase", "rolled_back", timeout=CONVERGED
    )
    current = Deployment.objects.get(pk=deployment.pk)
    assert (current.generation, current.env) == (3, {})
    expect(page.locator("tr[data-revision='3']")).to_contain_text("rollback to revision 1")
