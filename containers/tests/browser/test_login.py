"""Logging in through the real form in Chromium: the right password lands on the dashboard, a wrong one
stays on the form with an error and no session."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from containers.tests.browser.pages import log_in, look_at

pytestmark = pytest.mark.browser


def test_the_right_password_lands_on_the_dashboard(page: Page, user: Any) -> None:
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    look_at(page, "login")

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.url.endswith("/")


def test_a_wrong_password_shows_an_error_and_logs_nobody_in(page: Page, user: Any) -> None:
    log_in(page, "alice", "wrong-horse")

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    page.goto("/deployments/")
    expect(page).to_have_url("/accounts/login/?next=/deployments/")
