"""Final invoices refuse every change in the database itself (migration 0003's triggers), while the
legitimate paths still work: finalization, drafts recomputed and deleted, credits on a later invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing import invoices, plans
from billing.models import Credit, Invoice, InvoiceLine, Usage
from billing.tests.factories import H0, plan
from tenancy.models import Organization, default_organization

pytestmark = pytest.mark.django_db

NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)
AFTER = datetime(2026, 12, 5, tzinfo=UTC)


@pytest.fixture
def final() -> Invoice:
    org = default_organization()
    plans.assign(org.pk, plan(cpu_used="0.5"), datetime(2026, 1, 1, tzinfo=UTC))
    Usage.objects.create(
        hour=H0, organization=org, deployment_name="web", container_name="web-1",
        docker_id="web-x", measure="cpu_used", quantity=Decimal("10"),
    )  # fmt: skip
    return invoices.finalize(org.pk, NOVEMBER, actor="test", now=AFTER)


def refused(action: object) -> None:
    """``action()`` fails in the database (its savepoint undone, the test's transaction usable)."""
    with pytest.raises(IntegrityError, match="final invoice"), transaction.atomic():
        action()  # type: ignore[operator]


def test_a_raw_update_or_delete_of_a_final_invoice_fails(final: Invoice) -> None:
    refused(lambda: Invoice.objects.filter(pk=final.pk).update(total=Decimal("0.01")))
    refused(lambda: Invoice.objects.filter(pk=final.pk).update(status=Invoice.Status.DRAFT))
    refused(lambda: Invoice.objects.filter(pk=final.pk)._raw_delete(Invoice.objects.db))
    final.refresh_from_db()
    assert (final.status, final.total, final.number) == (Invoice.Status.FINAL, Decimal("5.000"), 1)


def test_a_raw_update_delete_or_insert_of_a_final_invoices_lines_fails(final: Invoice) -> None:
    lines = InvoiceLine.objects.filter(invoice=final)
    refused(lambda: lines.update(amount=Decimal("0")))
    refused(lambda: lines._raw_delete(InvoiceLine.objects.db))
    line = lines.get()
    refused(lambda: InvoiceLine.objects.bulk_create([InvoiceLine(invoice=final, kind="credit", description="x",
                                                                 quantity=1, unit_price=-1, amount=-1)]))  # fmt: skip
    draft = invoices.refresh(final.organization_id, DECEMBER, now=AFTER)
    refused(lambda: lines.update(invoice=draft))  # moving a line off a final invoice
    assert list(lines.values_list("pk", "amount")) == [(line.pk, Decimal("5.000"))]


def test_drafts_still_change_and_credits_land_on_the_next_invoice(final: Invoice) -> None:
    org_id = final.organization_id
    draft = invoices.refresh(org_id, DECEMBER, now=AFTER)
    assert Invoice.objects.filter(pk=draft.pk).update(total=Decimal("1")) == 1  # a draft is not guarded
    Credit.objects.create(organization_id=org_id, amount=Decimal("2"), currency="EUR", reason="outage")
    december_end = datetime(2027, 1, 5, tzinfo=UTC)
    finalized = invoices.finalize(org_id, DECEMBER, actor="test", now=december_end)
    assert finalized.number == 2 and finalized.total == Decimal("-2.00")
    assert Credit.objects.get().invoice_id == finalized.pk
    InvoiceLine.objects.filter(invoice__status=Invoice.Status.DRAFT).delete()  # no draft lines left: no error


def test_an_organization_with_only_drafts_is_still_deleted_and_one_with_a_final_is_kept(final: Invoice) -> None:
    from tenancy.errors import Conflict

    other = Organization.objects.create(name="Other", slug="other")
    invoices.refresh(other.pk, DECEMBER, now=AFTER)
    invoices.before_organization_delete(other.pk)  # billing's receiver of tenancy's hook
    other.delete()
    assert not Invoice.objects.filter(organization_id=other.pk).exists()
    with pytest.raises(Conflict):
        invoices.before_organization_delete(final.organization_id)
    assert Invoice.objects.filter(pk=final.pk, status=Invoice.Status.FINAL).exists()
