"""Every main page fits a 1280 px window in Chromium (no horizontal scroll), with the longest values the
console allows: a 63-character deployment name, a long registry reference, a long error, long events."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from containers.models import Deployment
from containers.tests.browser.pages import AFTER_NEXT_FRAME, LONG_NAME, horizontal_overflow, main_pages, save_screenshot

pytestmark = pytest.mark.browser


def test_no_main_page_scrolls_sideways_at_1280_px(console: Page, crowded: Deployment) -> None:
    pages = main_pages(crowded)
    too_wide = {}
    for name, url in pages.items():
        console.goto(url)
        expect(console.get_by_role("heading", level=1)).to_be_visible()
        if (overflow := horizontal_overflow(console)) > 0:
            too_wide[url] = overflow
        save_screenshot(console, f"crowded-{name}")

    assert not too_wide, f"pages wider than 1280 px (by how many px): {too_wide}"


@pytest.mark.parametrize("width", [390, 1000])
def test_every_page_fits_a_phone_and_a_small_laptop(console: Page, crowded: Deployment, width: int) -> None:
    console.set_viewport_size({"width": width, "height": 844})
    too_wide = {}
    for name, url in main_pages(crowded).items():
        console.goto(url)
        expect(console.get_by_role("heading", level=1)).to_be_visible()
        console.wait_for_load_state("networkidle")
        overflow = int(console.evaluate("document.documentElement.scrollWidth")) - width
        if overflow > 0:
            too_wide[url] = overflow
        # Nor does anything scroll sideways inside the page: tables stack instead of hiding columns.
        inner = console.evaluate(
            "() => [...document.querySelectorAll('main *')].filter(e => e.scrollWidth - e.clientWidth > 1"
            " && getComputedStyle(e).overflowX !== 'visible'"
            " && !e.closest('.uplot, pre, thead, input, textarea, .visually-hidden'))"
            ".map(e => `${e.tagName}.${e.className}: ${e.scrollWidth - e.clientWidth}`)"
        )
        if inner:
            too_wide[f"{url} (inside)"] = inner
        save_screenshot(console, f"crowded-{name}-{width}", width=width)
    assert not too_wide, f"pages wider than {width} px (by how many px): {too_wide}"


def test_a_deployment_row_shows_every_column_on_a_phone(console: Page, crowded: Deployment) -> None:
    console.set_viewport_size({"width": 390, "height": 844})
    console.goto("/deployments/")
    row = console.locator("tr[id^=deployment-row-]").first
    for control in (
        row.get_by_label(f"Replicas of {LONG_NAME}"),
        row.get_by_role("button", name=f"One replica more for {LONG_NAME}"),
        row.locator("td.limits"),
    ):
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport(ratio=1)
    # The image reference wraps as words, not one letter per line.
    box = row.locator("code.ref").bounding_box()
    assert box and box["width"] > 200, f"the image name is squeezed into {box} px"


@pytest.mark.parametrize("width", [390, 1000])
def test_the_navigation_reaches_every_page_and_log_out_at_both_widths(
    console: Page, crowded: Deployment, width: int
) -> None:
    console.set_viewport_size({"width": width, "height": 844})
    console.goto("/deployments/")
    nav = console.get_by_role("navigation", name="Main")
    menu = nav.get_by_role("button", name="Menu")
    if width < 700:
        # Folded behind one button on a phone; opening it shows every entry.
        expect(nav.get_by_role("link", name="Events")).to_be_hidden()
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
    else:
        expect(menu).to_be_hidden()
    for name in ("Dashboard", "Deployments", "Fleet", "Images", "Events", "Account"):
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{name} is outside the window"
    log_out = nav.get_by_role("button", name="Log out")
    expect(log_out).to_be_visible()
    box = log_out.bounding_box()
    assert box and box["x"] + box["width"] <= width, "Log out sits off screen"
    nav.get_by_role("link", name="Events", exact=True).click()
    expect(console.get_by_role("heading", level=1)).to_have_text("Events")


def test_the_dashboard_s_host_table_stacks_when_a_window_narrows_to_a_phone(console: Page, crowded: Deployment) -> None:
    console.goto("/")
    host = console.locator("#host-panel table")
    expect(host).to_be_visible()  # loaded after the page, by htmx
    expect(host).not_to_have_class("stacked")  # four columns fit 1280 px

    console.set_viewport_size({"width": 390, "height": 844})
    console.evaluate(AFTER_NEXT_FRAME)

    expect(host).to_have_class("stacked")
    assert console.evaluate("document.documentElement.scrollWidth") <= 390
