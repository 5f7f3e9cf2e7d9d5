"""The events page's filter in Chromium: the kind is a choice among the kinds that occur, and the dates are
typed as ISO dates with the time zone stated (not the browser's mm/dd/yyyy)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from containers.models import Event

pytestmark = pytest.mark.browser


@pytest.fixture
def history(transactional_db: Any) -> None:
    now = timezone.now()
    for kind, age in (("deployment.scaled", 1), ("deployment.scaled", 2), ("container.died", 3), ("image.pulled", 48)):
        event = Event.objects.create(kind=kind, actor="bob", message=f"{kind} {age} h ago")
        Event.objects.filter(pk=event.pk).update(created_at=now - timedelta(hours=age))


def test_the_kind_is_chosen_among_the_kinds_that_occur(console: Page, history: None) -> None:
    console.goto("/console/events/")
    kind = console.get_by_label("Kind", exact=True)
    options = kind.locator("option").all_inner_texts()
    assert options == ["any kind", "container.died", "deployment.scaled", "image.pulled"]

    kind.select_option("deployment.scaled")
    console.get_by_role("button", name="Filter").click()
    expect(console.get_by_text("2 events match")).to_be_visible()
    expect(console.get_by_label("Kind", exact=True)).to_have_value("deployment.scaled")

    console.get_by_label("Kind", exact=True).select_option("")
    console.get_by_label("Kind group").select_option("container.")
    console.get_by_role("button", name="Filter").click()
    expect(console.get_by_text("1 event matches")).to_be_visible()


def test_dates_are_iso_in_utc(console: Page, history: None) -> None:
    console.goto("/console/events/")
    since = console.get_by_label("From")
    expect(since).to_have_attribute("type", "text")
    expect(since).to_have_attribute("placeholder", "2026-12-05 18:44:12")
    expect(console.locator("label[for=id_created_after]")).to_contain_text("UTC, YYYY-MM-DD HH:MM:SS")

    since.fill((timezone.now() - timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S"))
    console.get_by_role("button", name="Filter").click()
    expect(console.get_by_text("3 events match")).to_be_visible()
    expect(console.get_by_label("From")).to_have_value(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    # An impossible date is refused at its field, in words.
    console.get_by_label("From").fill("12/05/2026")
    console.get_by_role("button", name="Filter").click()
    expect(console.get_by_label("From")).to_have_attribute("aria-invalid", "true")
