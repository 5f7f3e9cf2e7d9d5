"""The console by keyboard alone in Chromium: Tab reaches a deployment's + button, Enter and Space press it
(changing the number only, with the list's refresh leaving it alone), Apply applies it and the focus
stays on Apply while the row is swapped. One model on the list and on a deployment's page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Deployment, Image

pytestmark = pytest.mark.browser


def tab_to(page: Page, target: Locator, presses: int = 60) -> int:
    """Press Tab until ``target`` has the focus; how many presses it took."""
    for count in range(1, presses + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return count
    pytest.fail(f"{presses} presses of Tab never reached {target}")


def test_tab_reaches_the_plus_button_and_enter_and_space_press_it(
    console: Page, engine_ready: None, transactional_db: Any
) -> None:
    image = Image.objects.create(reference="orchestrator-test/keyboard:1")
    deployment = Deployment.objects.create(
        name="keys", image=image, replicas=1, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    console.goto("/deployments/")
    plus = console.get_by_role("button", name="One replica more for keys")
    replicas = console.get_by_label("Replicas of keys")

    tab_to(console, plus)
    console.keyboard.press("Enter")
    expect(replicas).to_have_value("2")
    console.keyboard.press("Space")
    expect(replicas).to_have_value("3")
    # The list refreshes every 2 s; an unapplied number survives it, and nothing was saved.
    console.wait_for_timeout(2500)
    expect(replicas).to_have_value("3")
    deployment.refresh_from_db()
    assert deployment.replicas == 1, "− and + only change the number"

    apply = console.get_by_role("button", name="Apply the scale of keys")
    expect(apply).to_be_visible()
    console.keyboard.press("Tab")
    expect(apply).to_be_focused()
    console.keyboard.press("Enter")
    expect(replicas).to_have_value("3")
    expect(apply).to_be_focused()  # the swapped row gave the focus back (same id)
    console.wait_for_function("() => !document.querySelector('form.scale.unapplied')")
    deployment.refresh_from_db()
    assert deployment.replicas == 3


def test_the_list_and_the_detail_page_have_the_same_visible_controls(
    console: Page, engine_ready: None, transactional_db: Any
) -> None:
    image = Image.objects.create(reference="orchestrator-test/keyboard:2")
    deployment = Deployment.objects.create(
        name="same", image=image, replicas=1, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    for url, scope in (
        ("/deployments/", f"#deployment-row-{deployment.pk}"),
        (f"/deployments/{deployment.pk}/", "#deployment-scale"),
    ):
        console.goto(url)
        controls = console.locator(f"{scope} form.scale button:visible")
        expect(controls.first).to_be_visible()
        labels = [text.strip() for text in controls.all_inner_texts()]
        assert labels[:3] == ["−", "+", "Apply"], f"{url}: {labels}"
    # Enter in the number applies it, as Apply does.
    console.get_by_label("Desired replicas").fill("2")
    console.get_by_label("Desired replicas").press("Enter")
    expect(console.locator("#deployment-scale [role=status]")).to_have_text("Now 2 desired; reconcile is on it.")
