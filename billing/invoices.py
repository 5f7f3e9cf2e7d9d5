"""Invoices: an organization's usage of a calendar month (UTC) priced by the plans in force.

Lines: one per plan period, measure and deployment (quantity × unit price, rounded half-up to the
currency's minor unit), one per plan period and measure for the included free quantity (a
negative line), and one per credit. The total is the sum of the rounded lines. A draft is
recomputed whenever asked for; :func:`finalize` computes it one last time, gives it the
organization's next number (under a lock on the organization's row, so numbers have no gaps)
and freezes it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from billing import money, plans
from billing.models import Credit, Invoice, InvoiceLine, Measure, PlanPeriod, Usage
from tenancy.errors import Conflict, Invalid
from tenancy.models import Organization

log = logging.getLogger(__name__)

DEFAULT_CURRENCY = "EUR"  # an organization on no plan yet: nothing is priced, the invoice says 0 EUR


@dataclass(frozen=True)
class Line:
    kind: str
    measure: str
    deployment_name: str
    plan_name: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Computed:
    currency: str
    lines: list[Line]

    @property
    def total(self) -> Decimal:
        return money.total((line.amount for line in self.lines), self.currency)


def month_of(at: datetime | date) -> date:
    return date(at.year, at.month, 1)


def bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    return start, (start + timedelta(days=32)).replace(day=1)


def is_closed(month: date, now: datetime | None = None) -> bool:
    return bounds(month)[1] <= (now or timezone.now())


def compute(organization_id: int, month: date, *, until: datetime | None = None) -> Computed:
    """The lines the invoice of ``month`` has now (usage up to ``until``, default all of the month)."""
    start, end = bounds(month)
    if until is not None:
        end = min(end, until)
    spans = plans.spans(organization_id, start, end)
    currency = spans[0].plan.currency if spans else DEFAULT_CURRENCY
    lines: list[Line] = []
    for span in spans:
        lines.extend(_span_lines(organization_id, span, currency))
    credits = Credit.objects.filter(
        organization_id=organization_id, currency=currency, created_at__lt=bounds(month)[1]
    ).filter(Q(invoice__isnull=True) | Q(invoice__month=month))
    for credit in credits.order_by("created_at", "pk"):
        amount = money.round_money(credit.amount, currency)
        lines.append(Line("credit", "", "", "", f"credit: {credit.reason}"[:200], Decimal(1), -amount, -amount))
    return Computed(currency, lines)


def _span_lines(organization_id: int, span: plans.Span, currency: str) -> list[Line]:
    plan = span.plan
    usage = (
        Usage.objects.filter(organization_id=organization_id, hour__gte=span.starts_at, hour__lt=span.ends_at)
        .values_list("measure", "deployment_name")
        .annotate(quantity=Sum("quantity"))
        .order_by("deployment_name", "measure")
    )
    lines = []
    per_measure: dict[str, Decimal] = defaultdict(Decimal)
    labels = dict(Measure.choices)
    for measure, deployment_name, quantity in usage:
        price = plan.price(measure)
        per_measure[measure] += quantity
        what = deployment_name or "images"
        lines.append(
            Line(
                "usage",
                measure,
                deployment_name,
                plan.name,
                f"{what}: {labels.get(measure, measure)}",
                quantity,
                price,
                money.round_money(quantity * price, currency),
            )
        )
    for measure in Measure:
        free = min(plan.included(measure), per_measure.get(measure, Decimal(0)))
        price = plan.price(measure)
        if free > 0 and price > 0:
            amount = -money.round_money(free * price, currency)
            lines.append(
                Line(
                    "included",
                    measure,
                    "",
                    plan.name,
                    f"included in {plan.name}: {measure.label}",
                    free,
                    -price,
                    amount,
                )
            )
    return lines


def refresh(organization_id: int, month: date, *, now: datetime | None = None) -> Invoice:
    """The month's invoice with its lines recomputed (created as a draft if it did not exist).

    A final invoice is returned as it is: it never changes.
    """
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(organization_id=organization_id, month=month).first()
        if invoice is not None and invoice.is_final:
            return invoice
        computed = compute(organization_id, month, until=now)
        if invoice is None:
            invoice = Invoice(organization_id=organization_id, month=month)
        invoice.currency, invoice.total, invoice.computed_at = computed.currency, computed.total, now
        invoice.save()
        InvoiceLine.objects.filter(invoice=invoice).delete()
        InvoiceLine.objects.bulk_create(_rows(invoice, computed.lines))
    return invoice


def _rows(invoice: Invoice, lines: list[Line]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            invoice=invoice,
            kind=line.kind,
            measure=line.measure,
            deployment_name=line.deployment_name,
            plan_name=line.plan_name,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        for line in lines
    ]


def finalize(organization_id: int, month: date, *, actor: str, now: datetime | None = None) -> Invoice:
    """Compute the month's invoice one last time, number it and make it final.

    Refused: a month that is not over yet (400, ``month``), an invoice already final (409, ``status``).
    """
    now = now or timezone.now()
    if not is_closed(month, now):
        raise Invalid(f"{month:%Y-%m} is not over yet; an invoice is finalized after its month ends", field="month")
    with transaction.atomic():
        # The organization's row is the lock that makes numbers sequential without gaps.
        Organization.objects.select_for_update().get(pk=organization_id)
        invoice = Invoice.objects.select_for_update().filter(organization_id=organization_id, month=month).first()
        if invoice is not None and invoice.is_final:
            raise Conflict(f"the invoice of {month:%Y-%m} is already final", field="status")
        invoice = refresh(organization_id, month, now=now)
        last = Invoice.objects.filter(organization_id=organization_id).aggregate(n=Max("number"))["n"] or 0
        invoice.number = last + 1
        invoice.status = Invoice.Status.FINAL
        invoice.finalized_at = now
        invoice.finalized_by = actor[:150]
        invoice.save()
        Credit.objects.filter(
            organization_id=organization_id,
            invoice__isnull=True,
            currency=invoice.currency,
            created_at__lt=bounds(month)[1],
        ).update(invoice=invoice)
    return invoice


def billable_organizations(month: date) -> list[int]:
    """Organizations with usage, a plan period or an invoice in ``month``."""
    start, end = bounds(month)
    ids = set(Usage.objects.filter(hour__gte=start, hour__lt=end).values_list("organization_id", flat=True).distinct())
    ids |= set(
        PlanPeriod.objects.filter(starts_at__lt=end)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=start))
        .values_list("organization_id", flat=True)
    )
    ids |= set(Invoice.objects.filter(month=month).values_list("organization_id", flat=True))
    return sorted(ids)


def finalize_closed_months(now: datetime | None = None, *, actor: str = "billing") -> list[Invoice]:
    """Beat's tick: finalize last month's invoices once the month has been over for the grace period.

    Idempotent: invoices already final are left alone.
    """
    now = now or timezone.now()
    month = month_of(now.replace(day=1) - timedelta(days=1))
    if bounds(month)[1] + timedelta(hours=settings.BILLING_FINALIZE_GRACE_H) > now:
        return []
    finals = set(
        Invoice.objects.filter(month=month, status=Invoice.Status.FINAL).values_list("organization_id", flat=True)
    )
    done = []
    for organization_id in billable_organizations(month):
        if organization_id in finals:
            continue
        try:
            done.append(finalize(organization_id, month, actor=actor, now=now))
        except Conflict:
            continue  # finalized by staff meanwhile
    return done


def month_to_date(organization_id: int, now: datetime | None = None) -> dict[str, object]:
    """This month's cost so far and a straight-line forecast for the whole month."""
    now = now or timezone.now()
    month = month_of(now)
    computed = compute(organization_id, month, until=now)
    start, end = bounds(month)
    elapsed = Decimal((now - start) // timedelta(seconds=1))
    whole = Decimal((end - start) // timedelta(seconds=1))
    forecast = money.round_money(computed.total * whole / elapsed, computed.currency) if elapsed > 0 else computed.total
    return {
        "month": month,
        "currency": computed.currency,
        "total": computed.total,
        "forecast": forecast,
        "lines": computed.lines,
    }


def refresh_open(now: datetime | None = None) -> int:
    """Recompute the drafts of this month (and of last month until it is final): after each metering tick."""
    now = now or timezone.now()
    count = 0
    for month in sorted({month_of(now), month_of(now.replace(day=1) - timedelta(days=1))}):
        finals = set(
            Invoice.objects.filter(month=month, status=Invoice.Status.FINAL).values_list("organization_id", flat=True)
        )
        for organization_id in billable_organizations(month):
            if organization_id not in finals:
                refresh(organization_id, month, now=now)
                count += 1
    return count


def before_organization_delete(organization_id: int) -> None:
    """Receiver of ``tenancy.hooks.before_organization_delete``.

    An organization with a final invoice is kept (409): its invoices are records an auditor needs.
    Otherwise its drafts and unused credits go first (invoices and credits protect their organization).
    """
    if Invoice.objects.filter(organization_id=organization_id, status=Invoice.Status.FINAL).exists():
        raise Conflict(
            "this organization has final invoices, which are kept for the records; it can't be deleted",
            field="organization",
        )
    with transaction.atomic():
        Credit.objects.filter(organization_id=organization_id, invoice__isnull=True).delete()
        Invoice.objects.filter(organization_id=organization_id, status=Invoice.Status.DRAFT).delete()
