"""Every organization's billing at a glance, for staff: this month's cost so far, last month's invoice.

Read from the invoices themselves (this month's draft is recomputed by every metering tick,
``invoices.refresh_open``), so the page is three queries however many organizations and usage
rows there are: the organizations, their plans in force, and the two months' invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from billing import invoices, money
from billing.models import Invoice, PlanPeriod
from tenancy.models import Organization


@dataclass(frozen=True)
class Row:
    """One organization's line on the staff page."""

    organization: Organization
    plan: str
    current: Invoice | None  # this month's draft (its total as of its last computation)
    previous: Invoice | None  # last month's invoice, draft until finalized

    @property
    def current_total(self) -> Decimal | None:
        return money.round_money(self.current.total, self.current.currency) if self.current else None

    @property
    def previous_total(self) -> Decimal | None:
        return money.round_money(self.previous.total, self.previous.currency) if self.previous else None


def rows(now: datetime | None = None) -> list[Row]:
    """One row per organization, by name."""
    now = now or timezone.now()
    month = invoices.month_of(now)
    last_month = invoices.month_of(month - timedelta(days=1))
    by_month: dict[tuple[int, object], Invoice] = {
        (invoice.organization_id, invoice.month): invoice
        for invoice in Invoice.objects.filter(month__in=[month, last_month]).select_related("organization")
    }
    in_force = {
        period.organization_id: period.plan.name
        for period in PlanPeriod.objects.filter(starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("plan")
    }
    return [
        Row(
            organization,
            in_force.get(organization.pk, ""),
            by_month.get((organization.pk, month)),
            by_month.get((organization.pk, last_month)),
        )
        for organization in Organization.objects.order_by("name")
    ]


def totals(listed: list[Row]) -> dict[str, Decimal]:
    """Month-to-date cost of all organizations, per currency."""
    sums: dict[str, Decimal] = {}
    for row in listed:
        if row.current is not None:
            currency = row.current.currency
            sums[currency] = sums.get(currency, Decimal(0)) + money.round_money(row.current.total, currency)
    return dict(sorted(sums.items()))
