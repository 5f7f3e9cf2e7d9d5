"""A deployment's whole life from the browser, in Chromium, against the real engine, worker and watcher:
create (after a plan preview), scale to 3, a container killed from outside and replaced, its log tail,
stop, delete. The detail page follows every change without a reload.

One test, in steps, because each step starts from where the previous one left the deployment; it
also saves the screenshots of the pages that show a live deployment.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from conftest import Process, deploy, docker_cli, on_engine, wait_for
from containers.models import Container, Deployment, Event
from containers.tests.browser.pages import look_at, look_at_phone

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("remove_test_containers")]

# The demo's own start script, after a greeting and a tick a second in the background: a log to follow.
COMMAND = (
    'sh -c "echo hello-from-the-browser; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done & '
    'exec /bin/sh /start.sh"'
)
# Set on the detail page once; still there at the end of a step means the page was never reloaded.
MARKER = "window.__marker"
# Converging goes through the watcher and the worker, and the page polls every 2 s.
CONVERGED = 30_000


def logs(processes: dict[str, Process]) -> str:
    return "\n".join(f"--- {name}\n{proc.log_tail()}" for name, proc in processes.items())


def test_a_deployment_from_creation_to_deletion(
    console: Page, demo_image: Any, orchestrator_processes: dict[str, Process]
) -> None:
    page = console
    # Company for it, made through the action function and converged by the worker: one that runs,
    # one that crash-loops. The pages and their screenshots show more than one deployment then.
    deploy(demo_image, "api", 2, converge=False, container_port=8080)
    deploy(demo_image, "jobs", 1, converge=False, command=["sh", "-c", "echo starting; exit 3"])

    # 1. Create it from the form, after previewing what reconcile will do.
    page.get_by_role("link", name="Deployments", exact=True).click()
    page.get_by_role("button", name="New deployment").first.click()  # a link that looks like a button
    page.get_by_label("Name").fill("web")
    page.get_by_label("Image").select_option(label=settings.DEMO_IMAGE)
    page.get_by_label("Replicas").fill("1")
    page.get_by_label("CPU limit").fill("0.05")
    page.get_by_label("Memory limit").fill("16m")
    page.get_by_label("Container port").fill("8080")
    page.get_by_label("Command").fill(COMMAND)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#deployment-form .plan-preview")).to_contain_text("create 1 container")
    assert not Deployment.objects.filter(name="web").exists(), "a preview saves nothing"
    page.get_by_role("button", name="Create deployment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("web")
    deployment = Deployment.objects.get(name="web")
    assert page.url.endswith(f"/deployments/{deployment.pk}/")
    status = page.locator("#deployment-status")
    expect(status).to_contain_text("1 running of 1 desired", timeout=CONVERGED)
    page.evaluate(f"{MARKER} = 'the same page'")

    # 2. Scale to 3 without a reload: + by keyboard (Tab from the number) changes the number, Apply
    # applies it; then 3 typed, previewed, applied.
    page.get_by_label("Desired replicas").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="One replica more")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Desired replicas")).to_have_value("2")
    expect(page.locator("#deployment-scale .unapplied-note")).to_have_text("Not applied yet: 1 → 2")
    deployment.refresh_from_db()
    assert deployment.replicas == 1, "+ only changes the number"
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Apply", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#deployment-scale [role=status]")).to_have_text("Now 2 desired; reconcile is on it.")
    expect(status).to_contain_text("2 running of 2 desired", timeout=CONVERGED)
    page.get_by_label("Desired replicas").fill("3")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#deployment-scale .plan-preview")).to_contain_text("create 1 container")
    look_at(page, "deployment-detail-preview")
    page.get_by_role("button", name="Apply", exact=True).click()

    running = status.locator("tbody .status-running")
    expect(running).to_have_count(3, timeout=CONVERGED)
    expect(status.locator("table.containers-list tbody tr")).to_have_count(3)
    expect(status).to_contain_text("3 running of 3 desired")
    assert page.evaluate(MARKER) == "the same page"

    # 3. Kill one from outside: the page shows its replacement, still without a reload.
    victim = Container.objects.filter(deployment=deployment, status="running").order_by("pk").first()
    assert victim is not None
    expect(status).to_contain_text(victim.name)
    docker_cli("kill", victim.docker_id)

    expect(status).not_to_contain_text(victim.name, timeout=CONVERGED)
    expect(running).to_have_count(3, timeout=CONVERGED)
    expect(status.locator("table.containers-list tbody tr")).to_have_count(3)
    assert page.evaluate(MARKER) == "the same page"
    assert victim.docker_id not in {info.id for info in on_engine(deployment)}
    look_at(page, "deployment-detail")
    look_at_phone(page, "deployment-detail")

    # The pages that summarise it, while it runs.
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator(f"#deployment-{deployment.pk}")).to_contain_text("3 / 3")
    expect(page.locator("#deployments tbody")).to_contain_text("crash-loop backoff", timeout=CONVERGED)
    look_at(page, "dashboard")
    look_at_phone(page, "dashboard")
    page.get_by_role("link", name="Deployments", exact=True).click()
    expect(page.locator(f"#deployment-row-{deployment.pk}")).to_contain_text("3 / 3")
    look_at(page, "deployments")
    look_at_phone(page, "deployments")
    page.get_by_role("link", name="Events").click()
    expect(page.locator("table.events")).to_contain_text("container.died")
    look_at(page, "events")

    # 4. A container's page: its log tail, which follows new lines while the page is open.
    page.get_by_role("link", name="Deployments", exact=True).click()
    page.locator(f"#deployment-row-{deployment.pk}").get_by_role("link", name="web").click()
    page.locator("#deployment-status tbody th a").first.click()
    log = page.locator("#container-log")
    expect(log).to_contain_text("hello-from-the-browser")
    expect(log).to_contain_text("tick-")
    page.evaluate(f"{MARKER} = 'the container page'")
    last_tick = max(int(n) for n in re.findall(r"tick-(\d+)", log.inner_text()))
    expect(log).to_contain_text(f"tick-{last_tick + 2}")
    assert page.evaluate(MARKER) == "the container page"
    look_at(page, "container-detail")

    # 5. Stop, after the confirmation: replicas 0, the containers go, the deployment stays.
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="web").click()
    page.get_by_role("button", name="Stop…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop web?")
    page.get_by_role("button", name="Stop deployment").click()
    expect(page.get_by_role("status").first).to_contain_text("Stopped web")
    expect(status).to_contain_text("No containers: the deployment is stopped", timeout=CONVERGED)
    wait_for(lambda: not on_engine(deployment), what=lambda: f"the containers to go\n{logs(orchestrator_processes)}")
    deployment.refresh_from_db()
    assert deployment.replicas == 0

    # 6. Delete, after the confirmation: the row goes, its events stay.
    page.get_by_role("button", name="Delete…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete web?")
    page.get_by_role("button", name="Delete deployment").click()
    expect(page).to_have_url("/deployments/")
    expect(page.get_by_role("status").first).to_contain_text("Deleted web")
    expect(page.locator(f"#deployment-row-{deployment.pk}")).to_have_count(0)
    expect(page.locator("#deployment-rows")).to_contain_text("api")
    assert not Deployment.objects.filter(pk=deployment.pk).exists()
    assert not on_engine(deployment)
    page.get_by_role("link", name="Events").click()
    expect(page.locator("table.events")).to_contain_text("web deleted")
    assert Event.objects.filter(kind="deployment.scaled", actor="alice").count() == 2
