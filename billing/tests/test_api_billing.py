"""The billing API: who may see what, range validation, CSV forms that reconcile, finalization."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from billing import invoices, plans
from billing.models import Invoice, Usage
from billing.tests.factories import H0, plan
from conftest import make_member
from tenancy.models import Organization, default_organization

pytestmark = pytest.mark.django_db
NOVEMBER = H0.date().replace(day=1)


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def add_usage(org: Organization, measure: str, quantity: str, *, at: datetime = H0, name: str = "web") -> None:
    Usage.objects.create(
        hour=at, organization=org, deployment_name=name, container_name=f"{name}-1",
        docker_id=f"{org.slug}-{name}-{at:%d%H}", measure=measure, quantity=Decimal(quantity),
    )  # fmt: skip


@pytest.fixture
def billed() -> dict[str, Any]:
    """Two organizations with usage and a plan; November's invoice of the first is a draft."""
    org = default_organization()
    other = Organization.objects.create(name="Other", slug="other")
    standard = plan(cpu_used="0.0123456", memory_used="0.5", network_out="0.09", included_cpu_used="100")
    for o in (org, other):
        plans.assign(o.pk, standard, datetime(2026, 1, 1, tzinfo=UTC))
    for hour in range(5):
        at = H0 + timedelta(hours=hour)
        add_usage(org, "cpu_used", "1234.567", at=at)
        add_usage(org, "memory_used", "0.333333333333", at=at, name="api")
        add_usage(org, "network_out", "0.0049", at=at, name="api")
        add_usage(other, "cpu_used", "99", at=at)
    return {
        "org": org,
        "other": other,
        "invoice": invoices.refresh(org.pk, NOVEMBER),
        "other_invoice": invoices.refresh(other.pk, NOVEMBER),
    }


def parse(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_admins_and_the_billing_role_see_usage_viewers_and_operators_do_not(billed: dict[str, Any]) -> None:
    org = billed["org"]
    for role, status in (("admin", 200), ("billing", 200), ("viewer", 403), ("operator", 403)):
        response = client_for(make_member(f"u-{role}", org, role)).get("/api/usage/?from=2026-11-01&to=2026-12-01")
        assert response.status_code == status, role
        if status == 200:
            assert response.json()["count"] == 15  # their organization's rows only
        else:
            assert "billing role" in response.json()["error"]


def test_anonymous_callers_get_401(billed: dict[str, Any]) -> None:
    assert APIClient().get("/api/usage/").status_code in (401, 403)
    assert APIClient().get(f"/api/invoices/{billed['invoice'].pk}/").status_code in (401, 403)


def test_another_organizations_invoice_is_a_404(billed: dict[str, Any]) -> None:
    admin = client_for(make_member("a", billed["org"], "admin"))
    assert admin.get(f"/api/invoices/{billed['other_invoice'].pk}/").status_code == 404
    assert admin.get(f"/api/invoices/{billed['other_invoice'].pk}/?format=csv").status_code == 404
    assert admin.get("/api/invoices/nope/").status_code == 404
    listed = admin.get("/api/invoices/?from=2026-01&to=2026-12").json()
    assert [row["id"] for row in listed["results"]] == [billed["invoice"].pk]


def test_staff_see_every_organization_and_may_filter_by_one(billed: dict[str, Any]) -> None:
    staff = client_for(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    assert staff.get("/api/usage/?from=2026-11-01&to=2026-12-01").json()["count"] == 20
    assert staff.get("/api/usage/?from=2026-11-01&to=2026-12-01&organization=other").json()["count"] == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-12-01&to=2026-11-01", "to"),
        ("from=2020-01-01&to=2026-11-01", "to"),
        ("from=yesterday", "from"),
        ("to=2026-13-45", "to"),
        ("measure=bananas", "measure"),
    ],
)
def test_a_bad_range_or_filter_is_a_400_naming_the_field(billed: dict[str, Any], query: str, field: str) -> None:
    admin = client_for(make_member("a", billed["org"], "admin"))
    for suffix in ("", "&format=csv"):
        response = admin.get(f"/api/usage/?{query}{suffix}")
        assert response.status_code == 400
        assert field in response.json()["fields"]


def test_the_usage_csv_sums_to_each_invoice_line_and_the_invoice_csv_to_the_total(billed: dict[str, Any]) -> None:
    admin = client_for(make_member("a", billed["org"], "billing"))
    usage = parse(admin.get("/api/usage/?from=2026-11-01&to=2026-12-01&format=csv"))
    lines = parse(admin.get(f"/api/invoices/{billed['invoice'].pk}/?format=csv"))
    invoice = Invoice.objects.get(pk=billed["invoice"].pk)
    assert sum(Decimal(line["amount"]) for line in lines) == invoice.total == Decimal(lines[0]["invoice_total"])
    assert any(Decimal(line["amount"]) < 0 for line in lines)  # the included quantity: a negative number, not text
    for line in (line for line in lines if line["kind"] == "usage"):
        summed = sum(
            (
                Decimal(u["quantity"])
                for u in usage
                if (u["deployment"], u["measure"]) == (line["deployment"], line["measure"])
            ),
            Decimal(0),
        )
        assert summed == Decimal(line["quantity"])
    assert admin.get("/api/invoices/?from=2026-11&to=2026-12", HTTP_ACCEPT="text/csv").status_code == 200


def test_finalizing_is_for_staff_and_only_of_a_closed_month(billed: dict[str, Any]) -> None:
    invoice = billed["invoice"]
    admin = client_for(make_member("a", billed["org"], "admin"))
    assert admin.post(f"/api/invoices/{invoice.pk}/finalize/").status_code == 403
    staff = client_for(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    response = staff.post(f"/api/invoices/{invoice.pk}/finalize/")
    assert response.status_code == 200
    assert (response.json()["number"], response.json()["status"]) == (1, "final")
    assert staff.post(f"/api/invoices/{invoice.pk}/finalize/").status_code == 409
    for method in ("put", "patch", "delete"):
        assert getattr(staff, method)(f"/api/invoices/{invoice.pk}/").status_code == 405
    current = invoices.refresh(billed["org"].pk, invoices.month_of(datetime.now(tz=UTC)))
    refused = staff.post(f"/api/invoices/{current.pk}/finalize/")
    assert refused.status_code == 400 and "month" in refused.json()["fields"]


def test_on_an_invoice_the_lookup_comes_first_then_the_role(billed: dict[str, Any]) -> None:
    invoice = billed["invoice"]
    own_viewer = client_for(make_member("v", billed["org"], "viewer"))
    other_viewer = client_for(make_member("w", billed["other"], "viewer"))
    other_billing = client_for(make_member("b", billed["other"], "billing"))
    assert own_viewer.get(f"/api/invoices/{invoice.pk}/").status_code == 403
    assert other_viewer.get(f"/api/invoices/{invoice.pk}/").status_code == 404
    assert other_billing.get(f"/api/invoices/{invoice.pk}/").status_code == 404
    assert other_billing.post(f"/api/invoices/{invoice.pk}/finalize/").status_code == 404
