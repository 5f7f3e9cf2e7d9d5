"""axe-core on every console page, at 1280 px and on a phone: no serious or critical findings.

Swagger UI (/api/docs/) is left out: its markup is the vendored swagger-ui bundle's own (nested
controls, its colours), not the console's."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from containers.models import Deployment
from containers.tests.browser.accessibility import severe_findings
from containers.tests.browser.pages import main_pages

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_has_serious_or_critical_accessibility_findings(
    console: Page,
    crowded: Deployment,
    width: int,  # noqa: F811
) -> None:
    console.set_viewport_size({"width": width, "height": 844})
    findings = {}
    for url in main_pages(crowded).values():
        console.goto(url)
        expect(console.get_by_role("heading", level=1)).to_be_visible()
        console.wait_for_load_state("networkidle")
        if found := severe_findings(console):
            findings[url] = found
    assert not findings, "\n".join(f"{url}: {found}" for url, found in findings.items())


def test_the_login_page_has_no_serious_or_critical_findings(page: Page) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert severe_findings(page) == []
