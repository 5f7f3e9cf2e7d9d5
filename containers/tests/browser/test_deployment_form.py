"""The new-deployment form in Chromium: a bad value is shown inline, next to its field, and creates nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from containers.models import Deployment, Event
from containers.tests.browser.pages import look_at

pytestmark = pytest.mark.browser


def test_memory_abc_is_an_error_next_to_the_field_and_creates_nothing(console: Page, demo_image: Any) -> None:
    console.goto("/deployments/new/")
    console.get_by_label("Name").fill("bad-memory")
    console.get_by_label("Image").select_option(label=settings.DEMO_IMAGE)
    console.get_by_label("CPU limit").fill("0.05")
    console.get_by_label("Memory limit").fill("abc")

    console.get_by_role("button", name="Create deployment").click()

    memory = console.get_by_label("Memory limit")
    expect(memory).to_have_attribute("aria-invalid", "true")
    # Right under the input it belongs to, and only there.
    error = console.locator("#id_memory_limit + small.error")
    expect(error).to_contain_text("'abc' is not a size")
    expect(console.locator("small.error")).to_have_count(1)
    # What was typed stays, and the page did not move: the form was swapped in place.
    expect(memory).to_have_value("abc")
    expect(console.get_by_label("Name")).to_have_value("bad-memory")
    assert console.url.endswith("/deployments/new/")
    look_at(console, "deployment-form-error")
    assert not Deployment.objects.exists()
    assert not Event.objects.filter(kind="deployment.created").exists()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("My-App", "use lowercase letters only: a name becomes a container's host name — for example “my-app”"),
        ("my_app", "only lowercase letters, digits and dashes; “_” cannot be used — for example “my-app”"),
    ],
)
def test_a_name_that_is_no_dns_label_is_refused_in_plain_words(
    console: Page, demo_image: Any, name: str, words: str
) -> None:
    console.goto("/deployments/new/")
    console.get_by_label("Name").fill(name)
    console.get_by_label("Image").select_option(label=settings.DEMO_IMAGE)
    console.get_by_role("button", name="Create deployment").click()

    field = console.get_by_label("Name")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#id_name + small.error")).to_have_text(words)
    expect(console.get_by_text("slug")).to_have_count(0)
    assert not Deployment.objects.exists()


def test_the_edit_form_changes_the_rollout_strategy_and_refuses_one_that_cannot_move(
    console: Page, demo_image: Any
) -> None:
    from containers.deployments import create_deployment

    deployment = create_deployment(
        actor="tests", name="strategy", image=demo_image, replicas=0, memory_limit_bytes=16 * 1024**2
    )
    console.goto(f"/deployments/{deployment.pk}/edit/")
    strategy = console.get_by_role("group", name="Rollout strategy")
    strategy.get_by_label("Max surge").fill("0")
    strategy.get_by_label("Max unavailable").fill("0")
    console.get_by_role("button", name="Apply changes").click()

    expect(console.get_by_label("Max surge")).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#id_max_surge + small.error")).to_contain_text("cannot both be 0")
    deployment.refresh_from_db()
    assert (deployment.max_surge, deployment.max_unavailable) == (1, 0)

    console.get_by_label("Max surge").fill("2")
    console.get_by_label("Automatic rollback").select_option(label="Off")
    console.get_by_role("button", name="Apply changes").click()

    expect(console).to_have_url(f"{console.url.split('/deployments/')[0]}/deployments/{deployment.pk}/")
    deployment.refresh_from_db()
    assert (deployment.max_surge, deployment.max_unavailable, deployment.auto_rollback) == (2, 0, False)
