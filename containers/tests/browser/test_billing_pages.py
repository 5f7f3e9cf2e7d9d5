"""Billing's console pages in Chromium: the month's cost and usage charts, the staff view of every
organization and a credit granted through its form; each page fits a phone and a 1280 px window
with the longest names the console allows, and axe finds nothing serious on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing import invoices, plans
from billing.models import Credit, Measure, Plan, Usage
from containers.tests.browser.accessibility import severe_findings
from containers.tests.browser.pages import look_at, look_at_phone
from tenancy.models import Organization, default_organization

pytestmark = pytest.mark.browser

LONG_NAME = "a-deployment-name-as-long-as-the-form-allows-which-is-63-chars-x"[:63]
LONG_ORG = "An organization whose name is as long as the form allows, which is a hundred characters, give or t"


@pytest.fixture
def billed(transactional_db: Any, user: Any) -> Organization:
    """alice is staff; her organization has a month of usage of every measure by eight deployments,
    and two more organizations (one with a long name) have drafts."""
    get_user_model().objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
    org = default_organization()
    prices = {f"price_{m.value}": Decimal("0.0123") for m in Measure}
    plan = Plan.objects.create(name="Standard", currency="EUR", **prices)
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    hours = max(1, int((timezone.now() - start) // timedelta(hours=1)))
    names = [*(f"deployment-{n}" for n in range(7)), LONG_NAME]  # the long one uses most: drawn apart
    rows = [
        Usage(
            hour=start + timedelta(hours=(n * 7) % hours),
            organization=org,
            deployment_name=name,
            container_name=f"{name[:60]}-{n}",
            docker_id=f"{index}-{n}",
            measure=measure.value,
            quantity=Decimal(index + 1) * Decimal("1.5"),
        )  # fmt: skip
        for n in range(40)
        for index, name in enumerate(names)
        for measure in Measure
    ]
    Usage.objects.bulk_create(rows)
    others = [
        Organization.objects.create(name=LONG_ORG, slug="long"),
        Organization.objects.create(name="Beta", slug="beta"),
    ]
    for organization in (org, *others):
        plans.assign(organization.pk, plan, datetime(2026, 1, 1, tzinfo=UTC))
        invoices.refresh(organization.pk, invoices.month_of(timezone.now()))
    return org


def checked(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    look_at(page, name)
    look_at_phone(page, name)
    assert severe_findings(page) == []


def test_the_billing_pages_fit_and_a_staff_member_grants_a_credit(console: Page, billed: Organization) -> None:
    console.goto("/console/billing/")
    # A usage chart per measure, each stacked by deployment (the longest name among them).
    for measure in Measure:
        chart = console.locator(f'figure[data-measure="{measure.value}"]')
        expect(chart.locator("rect").first).to_be_attached()
    expect(console.locator('figure[data-measure="cpu_used"] figcaption')).to_contain_text(LONG_NAME)
    checked(console, "billing-overview")

    console.get_by_role("link", name="Every organization's billing").click()
    expect(console.get_by_role("heading", level=1)).to_have_text("Billing: every organization")
    expect(console.locator("#billing-organizations tbody tr")).to_have_count(3)
    checked(console, "billing-organizations")

    console.get_by_role("link", name=LONG_ORG).click()
    long = Organization.objects.get(slug="long")
    expect(console).to_have_url(f"{console.url.split('/console/')[0]}/console/billing/organizations/{long.pk}/")
    checked(console, "billing-organization")

    form = console.get_by_role("form", name="Grant a credit")
    form.get_by_label("Amount").fill("12.345")  # EUR has two decimals: refused, naming the field
    form.get_by_label("Reason").fill("outage on the 3rd")
    form.get_by_role("button", name="Grant the credit").click()
    expect(console.locator("#error-amount")).to_contain_text("decimals")
    assert not Credit.objects.exists()
    console.go_back()
    form = console.get_by_role("form", name="Grant a credit")
    form.get_by_label("Amount").fill("12.50")
    form.get_by_label("Reason").fill("outage on the 3rd")
    form.get_by_role("button", name="Grant the credit").click()
    expect(console.locator("#credits tbody")).to_contain_text("outage on the 3rd")
    expect(console.locator("#credits tbody")).to_contain_text("12.500 EUR")
    assert Credit.objects.get().organization_id == long.pk
