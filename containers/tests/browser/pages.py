"""What the browser tests share besides fixtures: logging in, screenshots, the 1280 px check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from conftest import ROOT

WIDTH, HEIGHT = 1280, 800
RULE_PAGES = ("alert-rules", "autoscalers", "probes", "endpoints")
LONG_NAME = "a-deployment-name-as-long-as-the-form-allows-which-is-63-chars-x"[:63]
# A screenshot shows the whole page down to this height: enough for every page's top and its first rows.
SCREENSHOT_MAX_HEIGHT = 1600
# Gitignored; the best ones are copied by hand into docs/screenshots/ for the README.
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def save_screenshot(page: Page, name: str, width: int = WIDTH) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), SCREENSHOT_MAX_HEIGHT)
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    return path


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth")) - WIDTH


PHONE_WIDTH, PHONE_HEIGHT = 390, 844
AFTER_NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"
# The first elements reaching past the window's right edge (outside a scrolling wrapper): what a
# failed width check names, so a layout that depends on the moment's data can be fixed from the log.
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.overflow-auto'))
  .slice(0, 6)
  .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} "${
    (e.textContent || '').trim().slice(0, 40)}" right=${Math.round(e.getBoundingClientRect().right)}`)"""


def look_at_phone(page: Page, name: str) -> None:
    """The same check and screenshot (``<name>-phone``) at a phone's 390 px, then back to 1280 px."""
    page.set_viewport_size({"width": PHONE_WIDTH, "height": PHONE_HEIGHT})
    try:
        page.wait_for_load_state("networkidle")
        # console.js re-fits its tables (stacked or not) in the frame after a resize: measure after it.
        page.evaluate(AFTER_NEXT_FRAME)
        overflow = int(page.evaluate("document.documentElement.scrollWidth")) - PHONE_WIDTH
        shot = save_screenshot(page, f"{name}-phone", width=PHONE_WIDTH)
        assert overflow <= 0, (
            f"{page.url} scrolls sideways by {overflow} px at {PHONE_WIDTH} px; "
            f"too wide: {page.evaluate(TOO_WIDE)} (screenshot {shot})"
        )
    finally:
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


def look_at(page: Page, name: str) -> None:
    """Check the page fits 1280 px (no horizontal scroll) and keep a screenshot of it."""
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) <= 0, f"{page.url} scrolls sideways by {horizontal_overflow(page)} px"
    save_screenshot(page, name)


def main_pages(deployment: Any) -> dict[str, str]:
    """Every console page with an address, for the ``crowded`` deployment (checks that visit them all)."""
    container = deployment.containers.order_by("pk").first()
    assert container is not None
    return {
        "dashboard": "/",
        "deployments": "/deployments/",
        "deployment-new": "/deployments/new/",
        "deployment": f"/deployments/{deployment.pk}/",
        "deployment-edit": f"/deployments/{deployment.pk}/edit/",
        "deployment-stop": f"/deployments/{deployment.pk}/stop/",
        "deployment-delete": f"/deployments/{deployment.pk}/delete/",
        "container": f"/console/containers/{container.pk}/",
        "fleet": "/console/health/",
        "charts": f"/console/health/containers/{container.pk}/",
        "services": "/console/services/",
        "images": "/console/images/",
        "events": "/console/events/",
        "account": "/account/",
        **{f"{slug}{suffix}": f"/console/{slug}/{suffix}" for slug in RULE_PAGES for suffix in ("", "new/")},
    }
