"""When the server stops answering, the live pages say so: a "Lost contact" banner with the time of the
last answer, cleared by the next answer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("url", ["/", "/deployments/"])
def test_a_banner_says_since_when_the_data_is_old_and_goes_when_polling_answers_again(console: Page, url: str) -> None:
    console.goto(url)
    banner = console.get_by_role("alert").filter(has_text="Lost contact")
    expect(banner).to_be_hidden()
    console.wait_for_load_state("networkidle")

    # The server goes away: every request fails at the network, as when the process is down.
    def gone(route: Route) -> None:
        route.abort("connectionrefused")

    console.route("**/*", gone)
    expect(banner).to_be_visible()
    expect(banner).to_have_text(re.compile(r"Lost contact — showing data from \d\d:\d\d:\d\d UTC"))

    console.unroute("**/*", gone)
    expect(banner).to_be_hidden()
