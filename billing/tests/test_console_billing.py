"""The console's Billing area: who sees it, the month's figures, the printable invoice, the budget and its alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing import budgets, invoices, plans
from billing.models import Budget, Usage
from billing.tests.factories import plan
from conftest import make_member
from containers.models import Event
from health import alerts
from tenancy.models import Organization, default_organization

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org() -> Organization:
    organization = default_organization()
    plans.assign(organization.pk, plan(cpu_used="0.5"), datetime(2026, 1, 1, tzinfo=UTC))
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for name, quantity in (("web", "10"), ("api", "4")):
        Usage.objects.create(
            hour=now, organization=organization, deployment_name=name, container_name=f"{name}-1",
            docker_id=f"{name}-x", measure="cpu_used", quantity=Decimal(quantity),
        )  # fmt: skip
    return organization


def test_the_overview_shows_month_to_date_cost_by_deployment_and_a_chart(org: Organization) -> None:
    page = signed_in(make_member("a", org, "billing")).get("/console/billing/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="mtd-total">7.00 EUR' in body
    assert "<rect" in body and "web" in body and "api" in body
    assert "/api/usage/?format=csv" in body
    assert 'CPU-seconds used</td><td class="numeric">14' in body


def test_viewers_and_operators_get_403(org: Organization) -> None:
    for role in ("viewer", "operator"):
        assert signed_in(make_member(role, org, role)).get("/console/billing/").status_code == 403


def test_the_printable_invoice_is_the_organizations_own(org: Organization) -> None:
    invoice = invoices.refresh(org.pk, invoices.month_of(timezone.now()))
    other = Organization.objects.create(name="Other", slug="other")
    assert (
        signed_in(make_member("x", other, "admin")).get(f"/console/billing/invoices/{invoice.pk}/").status_code == 404
    )
    assert signed_in(make_member("v", org, "viewer")).get(f"/console/billing/invoices/{invoice.pk}/").status_code == 403
    page = signed_in(make_member("a", org, "admin")).get(f"/console/billing/invoices/{invoice.pk}/")
    assert page.status_code == 200 and b'id="invoice-total"><strong>7.00 EUR' in page.content


def test_admins_set_the_budget_the_billing_role_may_not_and_bad_input_names_its_field(org: Organization) -> None:
    admin = signed_in(make_member("a", org, "admin"))
    assert admin.post("/console/billing/budget/", {"amount": "8.00", "alert_pct": "50"}).status_code == 302
    assert (Budget.objects.get().amount, Budget.objects.get().alert_pct) == (Decimal("8.00"), 50)
    refused = admin.post("/console/billing/budget/", {"amount": "-1", "alert_pct": "50"})
    assert refused.status_code == 400 and b'id="error-amount"' in refused.content
    assert admin.post("/console/billing/budget/", {"amount": "lots"}).status_code == 400
    assert Budget.objects.get().amount == Decimal("8.00")
    billing = signed_in(make_member("b", org, "billing"))
    assert billing.post("/console/billing/budget/", {"amount": "1", "alert_pct": "50"}).status_code == 403


def test_passing_the_budgets_share_raises_one_alert_event_a_month(org: Organization) -> None:
    budgets.set_budget(org.pk, Decimal("10"), 50)
    assert budgets.check() == [org.pk]
    assert budgets.check() == []
    event = Event.objects.get(kind=budgets.KIND)
    assert event.organization_id == org.pk  # its own alert rules deliver it
    assert alerts.alert_kind(event.kind, event.after) == budgets.KIND  # the alert rules can ask for it
    budgets.set_budget(org.pk, Decimal("100"), 50)
    Budget.objects.update(alerted_month=None)
    assert budgets.check() == []  # 7 EUR is under 50 % of 100


def _usage(
    organization: Organization, hour: datetime, deployment: str, measure: str, quantity: str, n: int = 1
) -> None:
    Usage.objects.create(
        hour=hour, organization=organization, deployment_name=deployment, container_name=f"{deployment}-{n}",
        docker_id=f"{deployment}-{n}-{hour:%d%H}", measure=measure, quantity=Decimal(quantity),
    )  # fmt: skip


def test_usage_charts_one_per_measure_stacked_by_deployment(org: Organization) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    _usage(org, now, "web", "memory_used", "2.5")
    body = signed_in(make_member("a", org, "billing")).get("/console/billing/").content.decode()
    assert 'data-measure="cpu_used"' in body and 'data-measure="memory_used"' in body
    assert 'data-measure="network_out"' not in body  # no usage of that measure: no chart
    # The CPU chart stacks web (10) on api (4): the highest day is their sum, each bar titled with its figure.
    cpu = body[body.index('data-measure="cpu_used"') : body.index('data-measure="memory_used"')]
    assert "web: 10.0000</title>" in cpu and "api: 4.0000</title>" in cpu
    assert "highest day 14.0000 CPU-seconds used" in cpu


def test_the_usage_charts_cost_the_same_queries_however_many_usage_rows(org: Organization) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(make_member("a", org, "billing"))
    client.get("/console/billing/")  # the session and the draft exist from here on

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/console/billing/").status_code == 200
        return len(captured)

    before = queries()
    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    hours = max(1, int((timezone.now() - start).total_seconds() // 3600))
    for n in range(60):  # spread over the month so far (several containers an hour early in a month)
        for deployment in ("web", "api", "db", "cache", "queue", "mail", "search", "cron"):
            for measure in ("cpu_reserved", "memory_reserved", "network_out", "container_hours"):
                _usage(org, start + timedelta(hours=n % hours), deployment, measure, "1.5", n)
    assert Usage.objects.count() > 1900
    assert queries() == before


def test_staff_see_every_organization_and_each_ones_billing(org: Organization) -> None:
    from django.contrib.auth import get_user_model

    other = Organization.objects.create(name="Other", slug="other")
    plans.assign(other.pk, plan(name="Cheap", cpu_used="1"), datetime(2026, 1, 1, tzinfo=UTC))
    _usage(other, timezone.now().replace(minute=0, second=0, microsecond=0), "shop", "cpu_used", "3")
    month = invoices.month_of(timezone.now())
    invoices.refresh(org.pk, month)
    invoices.refresh(other.pk, month)
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    client = signed_in(staff)
    page = client.get("/console/billing/organizations/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="/console/billing/organizations/{other.pk}/">Other</a>' in body
    assert "7.00 EUR" in body and "3.00 EUR" in body and "<strong>10.00 EUR</strong>" in body
    theirs = client.get(f"/console/billing/organizations/{other.pk}/")
    assert theirs.status_code == 200 and b'id="mtd-total">3.00 EUR' in theirs.content
    assert b"organization=other" in theirs.content  # its CSV links name it
    assert b'action="/console/billing/budget/"' not in theirs.content  # the budget form is the current one's


def test_non_staff_see_only_their_own_organizations_billing(org: Organization) -> None:
    other = Organization.objects.create(name="Other", slug="other")
    admin = signed_in(make_member("a", org, "admin"))
    assert admin.get("/console/billing/organizations/").status_code == 403
    assert admin.get(f"/console/billing/organizations/{other.pk}/").status_code == 404
    own = admin.get(f"/console/billing/organizations/{org.pk}/")
    assert own.status_code == 200 and b'id="mtd-total">7.00 EUR' in own.content
    viewer = signed_in(make_member("v", org, "viewer"))
    assert viewer.get(f"/console/billing/organizations/{org.pk}/").status_code == 403
    assert viewer.get(f"/console/billing/organizations/{other.pk}/").status_code == 404
    assert viewer.get("/console/billing/organizations/").status_code == 403
