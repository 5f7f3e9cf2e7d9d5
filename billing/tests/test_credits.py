"""Credits granted by staff (API and console): validation naming every wrong field, nothing half-made,
the credit line on the month's invoice, and who may see or grant them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from billing import credits, invoices, plans
from billing.models import Credit
from billing.tests.factories import plan
from billing.tests.test_api_billing import client_for as api
from conftest import make_member
from containers.refusals import InvalidInput
from tenancy.models import Organization, default_organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs() -> tuple[Organization, Organization]:
    org = default_organization()
    other = Organization.objects.create(name="Other", slug="other")
    plans.assign(org.pk, plan("Euro", cpu_used="1"), datetime(2026, 1, 1, tzinfo=UTC))
    plans.assign(other.pk, plan("Yen", currency="JPY", cpu_used="1"), datetime(2026, 1, 1, tzinfo=UTC))
    return org, other


@pytest.fixture
def staff() -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")


def test_staff_grant_a_credit_and_it_is_a_line_on_this_months_invoice(orgs: Any, staff: Any) -> None:
    org, _ = orgs
    answer = api(staff).post(
        "/api/credits/", {"organization": "default", "amount": "12.50", "reason": "outage on the 3rd"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["amount"] == "12.500" and answer.json()["currency"] == "EUR"
    credit = Credit.objects.get()
    assert (credit.amount, credit.created_by, credit.organization_id) == (Decimal("12.50"), "root", org.pk)
    invoice = invoices.refresh(org.pk, invoices.month_of(timezone.now()))
    assert invoice.lines.get(kind="credit").amount == Decimal("-12.50")
    assert invoice.total == Decimal("-12.50")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"organization": "default", "amount": "-5", "reason": "x"}, {"amount"}),
        ({"organization": "default", "amount": "0", "reason": "x"}, {"amount"}),
        ({"organization": "default", "amount": "lots", "reason": "x"}, {"amount"}),
        ({"organization": "default", "amount": "NaN", "reason": "x"}, {"amount"}),
        ({"organization": "default", "amount": "1.005", "reason": "x"}, {"amount"}),  # EUR has 2 decimals
        ({"organization": "default", "amount": True, "reason": "x"}, {"amount"}),
        ({"organization": "default", "amount": "5", "reason": "  "}, {"reason"}),
        ({"organization": "default", "amount": "5", "reason": "x", "currency": "USD"}, {"currency"}),
        ({"organization": "default", "amount": "5", "reason": "x", "currency": "euro"}, {"currency"}),
        ({"organization": "other", "amount": "5.50", "reason": "x"}, {"amount"}),  # JPY has none
        ({"organization": "nobody", "amount": "5", "reason": "x"}, {"organization"}),
        ({"amount": "x"}, {"organization", "amount", "reason"}),
    ],
)
def test_bad_input_is_a_400_naming_every_wrong_field_and_nothing_is_made(
    orgs: Any, staff: Any, body: dict[str, Any], fields: set[str]
) -> None:
    answer = api(staff).post("/api/credits/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert set(answer.json()["fields"]) == fields
    assert not Credit.objects.exists()


def test_an_organization_on_no_plan_is_refused(staff: Any) -> None:
    Organization.objects.create(name="Planless", slug="planless")
    with pytest.raises(InvalidInput) as refused:
        credits.grant("planless", "5", "x", actor="root")
    assert set(refused.value.fields) == {"organization"}


def test_only_staff_grant_members_with_billing_read_their_own(orgs: Any, staff: Any) -> None:
    org, other = orgs
    credits.grant(org, "3", "ours", actor="root")
    credits.grant(other, "300", "theirs", actor="root")
    for role in ("admin", "billing"):
        member = api(make_member(role, org, role))
        assert (
            member.post("/api/credits/", {"organization": "default", "amount": "1", "reason": "x"}).status_code == 403
        )
        listed = member.get("/api/credits/")
        assert listed.status_code == 200 and [c["reason"] for c in listed.json()["results"]] == ["ours"]
        assert member.get("/api/credits/?organization=other").json()["results"] == []
    assert api(make_member("viewer", org, "viewer")).get("/api/credits/").status_code == 403
    assert {c["reason"] for c in api(staff).get("/api/credits/").json()["results"]} == {"ours", "theirs"}
    assert Credit.objects.count() == 2


def test_the_console_form_grants_for_staff_refuses_bad_input_and_others(orgs: Any, staff: Any) -> None:
    org, other = orgs
    client = Client()
    client.force_login(staff)
    page = client.get(f"/console/billing/organizations/{other.pk}/")
    assert f'action="/console/billing/organizations/{other.pk}/credits/"'.encode() in page.content
    url = f"/console/billing/organizations/{other.pk}/credits/"
    answer = client.post(url, {"amount": "500", "reason": "goodwill", "currency": "JPY"})
    assert answer.status_code == 302 and answer["Location"] == f"/console/billing/organizations/{other.pk}/"
    assert Credit.objects.get().amount == Decimal("500")
    refused = client.post(url, {"amount": "-1", "reason": ""})
    assert (
        refused.status_code == 400
        and b'id="error-amount"' in refused.content
        and b'id="error-reason"' in refused.content
    )
    assert Credit.objects.count() == 1
    admin = Client()
    admin.force_login(make_member("a", org, "admin"))
    assert admin.post(url, {"amount": "1", "reason": "x"}).status_code == 404  # another organization's
    assert (
        admin.post(f"/console/billing/organizations/{org.pk}/credits/", {"amount": "1", "reason": "x"}).status_code
        == 403
    )
    assert b"Grant the credit" not in admin.get("/console/billing/").content
    assert Credit.objects.count() == 1
