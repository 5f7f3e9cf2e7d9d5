"""A preview of a request that would be refused, in Chromium: the numbers read as a person writes them, the
field that asks for too much is marked, and no plan is shown (nothing would happen)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Deployment, Image

pytestmark = pytest.mark.browser

LONG_DECIMALS = re.compile(r"\d\.\d{3,}")


def fill_new(page: Page, name: str, replicas: str, cpu: str) -> None:
    page.goto("/deployments/new/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Image").select_option(label=settings.DEMO_IMAGE)
    page.get_by_label("Replicas").fill(replicas)
    page.get_by_label("CPU limit").fill(cpu)
    page.get_by_label("Memory limit").fill("16m")


def test_a_create_that_asks_for_too_much_cpu_is_refused_in_round_numbers_at_replicas(
    console: Page, demo_image: Any
) -> None:
    fill_new(console, "greedy", str(settings.MAX_REPLICAS), "0.646")
    console.get_by_role("button", name="Preview").click()

    replicas = console.get_by_label("Replicas")
    expect(replicas).to_have_attribute("aria-invalid", "true")
    error = console.locator("#id_replicas_error")
    expect(error).to_contain_text("not enough host resources: CPU: 64.6 cores would be reserved, the host allows")
    assert not LONG_DECIMALS.search(error.inner_text()), error.inner_text()
    preview = console.locator("#deployment-form .plan-preview")
    expect(preview).to_contain_text("Would be refused")
    expect(preview.locator("ul.plan")).to_have_count(0)
    expect(preview).not_to_contain_text("create")
    assert not Deployment.objects.filter(name="greedy").exists()


def test_a_taken_name_is_refused_at_the_name_with_no_plan(console: Page, demo_image: Any) -> None:
    Deployment.objects.create(
        name="taken", image=demo_image, replicas=0, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    fill_new(console, "taken", "1", "0.05")
    console.get_by_role("button", name="Preview").click()
    expect(console.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#id_name_error")).to_have_text("a deployment named 'taken' already exists")
    expect(console.locator("#deployment-form .plan-preview ul.plan")).to_have_count(0)


def test_a_scale_preview_that_would_be_refused_marks_the_number_and_shows_no_plan(
    console: Page, engine_ready: None, transactional_db: Any
) -> None:
    image = Image.objects.create(reference="orchestrator-test/refused:1")
    deployment = Deployment.objects.create(
        name="big", image=image, replicas=1, cpu_limit="0.9", memory_limit_bytes=SMALL_MEMORY
    )
    console.goto(f"/deployments/{deployment.pk}/")
    console.get_by_label("Desired replicas").fill(str(settings.MAX_REPLICAS))
    console.get_by_role("button", name="Preview").click()
    number = console.get_by_label("Desired replicas")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#scale-error")).to_contain_text("CPU: 90 cores would be reserved")
    expect(console.locator("#deployment-scale .plan-preview ul.plan")).to_have_count(0)
