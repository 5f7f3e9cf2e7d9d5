"""The billing admin: every page answers staff; plans validate prices; final invoices are read-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from billing import invoices, plans
from billing.models import Plan, PlanPeriod
from billing.tests.factories import plan
from tenancy.models import default_organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    return client


def test_every_billing_admin_page_answers(staff: Client) -> None:
    for model in ("plan", "planperiod", "usage", "meteredhour", "invoice", "credit", "budget"):
        assert staff.get(f"/admin/billing/{model}/").status_code == 200, model
    assert staff.get("/admin/billing/plan/add/").status_code == 200


def test_a_negative_price_or_a_missing_currency_is_refused_at_its_field(staff: Client) -> None:
    response = staff.post("/admin/billing/plan/add/", {"name": "Bad", "currency": "", "price_cpu_used": "-1"})
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert "currency" in errors and "price_cpu_used" in errors
    assert not Plan.objects.exists()


def test_an_overlapping_period_is_refused_at_its_field(staff: Client) -> None:
    org = default_organization()
    p = plan()
    PlanPeriod.objects.create(organization=org, plan=p, starts_at=datetime(2026, 6, 1, tzinfo=UTC))
    response = staff.post(
        "/admin/billing/planperiod/add/",
        {"organization": org.pk, "plan": p.pk, "starts_at_0": "2026-05-01", "starts_at_1": "00:00:00"},
    )
    assert "starts_at" in response.context["adminform"].form.errors
    assert PlanPeriod.objects.count() == 1


def test_a_final_invoice_is_read_only(staff: Client) -> None:
    invoice = invoices.finalize(default_organization().pk, datetime(2026, 10, 1).date(), actor="t")
    page = staff.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert staff.post(f"/admin/billing/invoice/{invoice.pk}/change/", {"total": "0"}).status_code == 403
    assert staff.post(f"/admin/billing/invoice/{invoice.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_credit_made_in_the_admin_is_validated_as_the_api_does(staff: Client) -> None:
    from billing.models import Credit

    org = default_organization()
    plans.assign(org.pk, plan(currency="JPY"), datetime(2026, 1, 1, tzinfo=UTC))
    wrong = staff.post(
        "/admin/billing/credit/add/", {"organization": org.pk, "amount": "5.50", "currency": "EUR", "reason": " "}
    )
    assert wrong.status_code == 200
    assert set(wrong.context["adminform"].form.errors) >= {"amount", "currency", "reason"}
    assert not Credit.objects.exists()
    made = staff.post("/admin/billing/credit/add/", {"organization": org.pk, "amount": "500", "reason": "goodwill"})
    assert made.status_code == 302
    credit = Credit.objects.get()
    assert (credit.amount, credit.currency, credit.created_by) == (500, "JPY", "root")
