"""Swagger UI (/api/docs/) in Chromium: operations grouped under one heading per resource, and an example
body that, sent unchanged with Execute, stops nothing."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# One heading per tag the schema declares, in its order (a new app's tag is listed there, not here).
GROUPS = [tag["name"] for tag in settings.SPECTACULAR_SETTINGS["TAGS"]]


def test_operations_are_grouped_by_resource(console: Page) -> None:
    console.goto("/api/docs/")
    headings = console.locator("h3.opblock-tag")
    expect(headings.first).to_be_visible()
    tags = headings.evaluate_all("hs => hs.map(h => h.dataset.tag)")
    assert tags == GROUPS, tags


def test_the_scale_example_does_not_stop_the_deployment(console: Page) -> None:
    console.goto("/api/docs/")
    scale = console.locator("#operations-deployments-api_deployments_scale_create")
    scale.locator(".opblock-summary").click()
    scale.get_by_role("button", name="Try it out").click()
    body = scale.locator("textarea.body-param__text")
    expect(body).to_be_visible()
    example = json.loads(body.input_value())
    assert example["replicas"] > 0, f"Execute unchanged would send {example}"
