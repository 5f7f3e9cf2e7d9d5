"""The console by keyboard alone in Chromium: Tab reaches a deployment's + button, Enter and Space press it,
and the focus stays on it while the row is swapped."""

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
    expect(plus).to_be_focused()  # the swapped row gave the focus back (same id)
    console.keyboard.press("Space")
    expect(replicas).to_have_value("3")
    expect(plus).to_be_focused()
    deployment.refresh_from_db()
    assert deployment.replicas == 3
