"""Keyboard aids in Chromium: a skip link first in the tab order, a clearly visible focus ring on every
control, and after a refused submit the focus on the first field that needs fixing."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Locator, Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Deployment, Image
from containers.tests.browser.test_keyboard import tab_to

pytestmark = pytest.mark.browser


def ring(control: Locator) -> tuple[str, float]:
    """The focused control's outline style and width in px."""
    style, width = control.evaluate("e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }")
    return style, float(width.removesuffix("px"))


def test_the_first_tab_reaches_a_skip_link_that_jumps_to_the_content(console: Page) -> None:
    console.goto("/deployments/")
    console.keyboard.press("Tab")
    skip = console.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    console.keyboard.press("Enter")
    expect(console.locator("main")).to_be_focused()
    # The next Tab goes into the page, past the navigation.
    console.keyboard.press("Tab")
    assert console.evaluate("document.activeElement.closest('main') !== null")


def test_minus_plus_filter_and_log_out_show_a_clear_focus_ring(
    console: Page, engine_ready: None, transactional_db: Any
) -> None:
    image = Image.objects.create(reference="orchestrator-test/rings:1")
    Deployment.objects.create(
        name="rings", image=image, replicas=2, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    console.goto("/deployments/")
    for control in (
        console.get_by_role("button", name="Log out"),
        console.get_by_role("button", name="One replica fewer for rings"),
        console.get_by_role("button", name="One replica more for rings"),
        console.get_by_role("button", name="Filter"),
    ):
        tab_to(console, control)
        style, width = ring(control)
        assert style == "solid" and width >= 2, f"{control} has a {width} px {style} focus ring"


def test_a_refused_submit_puts_the_focus_on_the_first_bad_field(console: Page, demo_image: Any) -> None:
    console.goto("/deployments/new/")
    console.get_by_label("Name").fill("fine-name")
    console.get_by_label("Image").select_option(label=settings.DEMO_IMAGE)
    console.get_by_label("CPU limit").fill("lots")
    console.get_by_label("Memory limit").fill("abc")
    console.get_by_role("button", name="Create deployment").click()

    expect(console.get_by_label("CPU limit")).to_have_attribute("aria-invalid", "true")
    expect(console.get_by_label("CPU limit")).to_be_focused()
