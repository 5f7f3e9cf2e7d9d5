"""Invoices: priced lines, plan changes, gapless numbers, finalization that freezes, credits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from billing import invoices, plans
from billing.models import Credit, Invoice, InvoiceFinal, InvoiceLine, Usage
from billing.tests.factories import H0, plan
from tenancy.errors import Conflict, Invalid
from tenancy.models import Organization, default_organization

NOVEMBER = date(2026, 11, 1)
AFTER = datetime(2026, 12, 5, tzinfo=UTC)


def add_usage(org: Organization, measure: str, quantity: str, *, at: datetime = H0, name: str = "web") -> None:
    Usage.objects.create(
        hour=at, organization=org, deployment_name=name, container_name=f"{name}-1",
        docker_id=f"{name}-{at:%d%H}", measure=measure, quantity=Decimal(quantity),
    )  # fmt: skip


@pytest.mark.django_db
class TestPricing:
    def test_lines_are_rounded_half_up_and_the_total_is_their_sum(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan(cpu_used="0.0000125", container_hours="0.015"), datetime(2026, 1, 1, tzinfo=UTC))
        add_usage(org, "cpu_used", "1000")  # 0.0125 -> 0.01
        add_usage(org, "container_hours", "1.5", name="api")  # 0.0225 -> 0.02
        invoice = invoices.refresh(org.pk, NOVEMBER, now=AFTER)
        amounts = sorted(invoice.lines.values_list("amount", flat=True))
        assert amounts == [Decimal("0.01"), Decimal("0.02")]
        assert invoice.total == Decimal("0.03")
        assert invoice.currency == "EUR"

    def test_included_quantities_are_a_negative_line(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan(cpu_used="0.01", included_cpu_used="100"), datetime(2026, 1, 1, tzinfo=UTC))
        add_usage(org, "cpu_used", "150")
        invoice = invoices.refresh(org.pk, NOVEMBER, now=AFTER)
        assert invoice.total == Decimal("0.50")
        assert invoice.lines.get(kind="included").amount == Decimal("-1.00")

    def test_a_plan_change_splits_the_month(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan("Cheap", cpu_used="0.01"), datetime(2026, 1, 1, tzinfo=UTC))
        plans.assign(org.pk, plan("Dear", cpu_used="0.10"), H0 + timedelta(hours=1))
        add_usage(org, "cpu_used", "10")
        add_usage(org, "cpu_used", "10", at=H0 + timedelta(hours=1))
        invoice = invoices.refresh(org.pk, NOVEMBER, now=AFTER)
        assert sorted(invoice.lines.values_list("plan_name", "amount")) == [
            ("Cheap", Decimal("0.10")),
            ("Dear", Decimal("1.00")),
        ]

    def test_overlapping_plan_periods_are_refused(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan(), H0)
        with pytest.raises(Invalid) as refused:
            plans.assign(org.pk, plan("Other"), H0 - timedelta(days=1))
        assert refused.value.field == "starts_at"

    def test_a_change_of_currency_mid_month_is_refused(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan(), datetime(2026, 1, 1, tzinfo=UTC))
        with pytest.raises(Invalid) as refused:
            plans.assign(org.pk, plan("Dollars", "USD"), H0)
        assert refused.value.field == "plan"
        plans.assign(org.pk, plan("Dollars2", "USD"), datetime(2026, 12, 1, tzinfo=UTC))


@pytest.mark.django_db
class TestFinalization:
    def test_an_open_month_is_not_finalized(self) -> None:
        org = default_organization()
        with pytest.raises(Invalid) as refused:
            invoices.finalize(org.pk, NOVEMBER, actor="t", now=datetime(2026, 11, 30, 23, tzinfo=UTC))
        assert refused.value.field == "month"
        assert not Invoice.objects.filter(status="final").exists()

    def test_numbers_are_sequential_per_organization_without_gaps(self) -> None:
        org = default_organization()
        other = Organization.objects.create(name="Other", slug="other")
        plans.assign(org.pk, plan(cpu_used="1"), datetime(2026, 1, 1, tzinfo=UTC))
        invoices.refresh(org.pk, date(2026, 12, 1), now=AFTER)  # a draft takes no number
        numbers = [invoices.finalize(org.pk, date(2026, m, 1), actor="t", now=AFTER).number for m in (9, 10, 11)]
        assert numbers == [1, 2, 3]
        assert invoices.finalize(other.pk, NOVEMBER, actor="t", now=AFTER).number == 1

    def test_a_final_invoice_never_changes(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan(cpu_used="1"), datetime(2026, 1, 1, tzinfo=UTC))
        add_usage(org, "cpu_used", "2")
        invoice = invoices.finalize(org.pk, NOVEMBER, actor="t", now=AFTER)
        add_usage(org, "cpu_used", "5", name="late")
        assert invoices.refresh(org.pk, NOVEMBER).total == Decimal("2.00")
        with pytest.raises(Conflict):
            invoices.finalize(org.pk, NOVEMBER, actor="t", now=AFTER)
        invoice.total = Decimal(0)
        with pytest.raises(InvoiceFinal):
            invoice.save()
        line = invoice.lines.get()
        line.amount = Decimal(0)
        with pytest.raises(InvoiceFinal):
            line.save()
        with pytest.raises(InvoiceFinal):
            line.delete()
        assert InvoiceLine.objects.get(pk=line.pk).amount == Decimal("2.00")

    def test_a_correction_is_a_credit_line_on_the_next_invoice(self) -> None:
        org = default_organization()
        plans.assign(org.pk, plan(cpu_used="1"), datetime(2026, 1, 1, tzinfo=UTC))
        invoices.finalize(org.pk, NOVEMBER, actor="t", now=AFTER)
        # Made now (the machine's clock): it goes on the invoice of the month it was made in.
        credit = Credit.objects.create(organization=org, amount=Decimal("1.234"), currency="EUR", reason="outage")
        month = invoices.month_of(credit.created_at)
        add_usage(org, "cpu_used", "2", at=invoices.bounds(month)[0])
        invoice = invoices.finalize(org.pk, month, actor="t", now=invoices.bounds(month)[1])
        assert invoice.lines.get(kind="credit").amount == Decimal("-1.23")
        assert invoice.total == Decimal("0.77")
        assert Credit.objects.get().invoice == invoice

    def test_beat_finalizes_last_month_after_the_grace_period(self) -> None:
        org = default_organization()
        add_usage(org, "cpu_used", "2")
        assert invoices.finalize_closed_months(datetime(2026, 12, 1, 1, tzinfo=UTC)) == []
        done = invoices.finalize_closed_months(datetime(2026, 12, 1, 4, tzinfo=UTC))
        assert [(i.organization_id, i.number) for i in done] == [(org.pk, 1)]
        assert invoices.finalize_closed_months(datetime(2026, 12, 1, 5, tzinfo=UTC)) == []


quantities = st.decimals(min_value=Decimal(0), max_value=Decimal(10_000), places=12, allow_nan=False)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=9, allow_nan=False)


class TestRoundingProperty(TestCase):
    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(st.tuples(st.sampled_from(["cpu_used", "network_out", "memory_used"]), quantities), max_size=8), prices
    )
    def test_total_is_the_sum_of_rounded_lines_and_finalization_freezes_them(
        self, rows: list[tuple[str, Decimal]], price: Decimal
    ) -> None:
        org = default_organization()
        chosen = plan(f"P{Invoice.objects.count()}-{len(rows)}", cpu_used=price, network_out=price, memory_used=price)
        plans.assign(org.pk, chosen, datetime(2026, 1, 1, tzinfo=UTC))
        for n, (measure, quantity) in enumerate(rows):
            add_usage(org, measure, str(quantity), name=f"d{n}")
        invoice = invoices.finalize(org.pk, NOVEMBER, actor="t", now=AFTER)
        lines = list(invoice.lines.values_list("amount", flat=True))
        assert invoice.total == sum(lines, Decimal(0))
        assert all(a == a.quantize(Decimal("0.01")) for a in lines)
        add_usage(org, "cpu_used", "1", name="after")
        assert list(invoices.refresh(org.pk, NOVEMBER).lines.values_list("amount", flat=True)) == lines


@pytest.mark.django_db
def test_the_metering_tick_keeps_this_months_drafts_current() -> None:
    org = default_organization()
    now = datetime.now(tz=UTC)
    add_usage(org, "cpu_used", "2", at=now.replace(minute=0, second=0, microsecond=0))
    assert invoices.refresh_open(now) >= 1
    draft = Invoice.objects.get(organization=org, month=invoices.month_of(now))
    assert (draft.status, draft.number) == ("draft", None)


@pytest.mark.django_db
def test_organizations_get_the_quotas_of_the_plan_in_force() -> None:
    org = default_organization()
    small = plan("Small", quota_containers=3, quota_cpu=Decimal("1.5"))
    large = plan("Large", quota_containers=30)
    now = datetime.now(tz=UTC)
    plans.assign(org.pk, small, now - timedelta(days=1))
    org.refresh_from_db()
    assert (org.quota_containers, org.quota_cpu) == (3, Decimal("1.5"))
    plans.assign(org.pk, large, now + timedelta(hours=1))  # later: takes effect when it starts
    org.refresh_from_db()
    assert org.quota_containers == 3
    assert plans.apply_quotas(now + timedelta(hours=2)) == 1
    org.refresh_from_db()
    assert (org.quota_containers, org.quota_cpu) == (30, Decimal("1.5"))  # a quota the plan leaves empty stays


@pytest.mark.django_db
def test_an_organization_with_final_invoices_is_kept_its_drafts_go_with_it() -> None:
    from tenancy.organizations import delete_organization

    kept = Organization.objects.create(name="Kept", slug="kept")
    invoices.finalize(kept.pk, NOVEMBER, actor="t", now=AFTER)
    with pytest.raises(Conflict):
        delete_organization(kept, actor="t")
    assert Organization.objects.filter(pk=kept.pk).exists()
    gone = Organization.objects.create(name="Gone", slug="gone")
    invoices.refresh(gone.pk, NOVEMBER, now=AFTER)
    Credit.objects.create(organization=gone, amount=Decimal(1), currency="EUR", reason="x")
    delete_organization(gone, actor="t")
    assert not Organization.objects.filter(pk=gone.pk).exists()
