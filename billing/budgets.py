"""Budgets: an organization's monthly budget and the alert when month-to-date cost passes a share of it.

The alert is an event of kind ``billing.budget`` (recorded once a month per organization), which
the existing alert rules deliver: billing registers the kind into ``health.alerts.KINDS`` in its
``AppConfig.ready()``, so a rule can ask for it like any other.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing import invoices
from billing.models import Budget
from containers.models import record
from tenancy.errors import Invalid

KIND = "billing.budget"
MEANING = "an organization's month-to-date cost passed its budget's alert share"


def set_budget(organization_id: int, amount: Decimal, alert_pct: int) -> Budget:
    """Create or change the budget (400 naming the field for a negative amount or a share outside 1-1000 %)."""
    if amount < 0:
        raise Invalid("the budget can't be negative", field="amount")
    if not 1 <= alert_pct <= 1000:
        raise Invalid("the alert share is a percentage from 1 to 1000", field="alert_pct")
    budget, _ = Budget.objects.update_or_create(
        organization_id=organization_id, defaults={"amount": amount, "alert_pct": alert_pct}
    )
    return budget


def check(now: datetime | None = None) -> list[int]:
    """After a metering tick: record the alert event for each organization whose cost passed its share."""
    now = now or timezone.now()
    month = invoices.month_of(now)
    alerted = []
    for budget in Budget.objects.select_related("organization").exclude(alerted_month=month):
        if budget.amount <= 0:
            continue
        cost = invoices.month_to_date(budget.organization_id, now)
        total: Decimal = cost["total"]  # type: ignore[assignment]
        if total * 100 < budget.amount * budget.alert_pct:
            continue
        with transaction.atomic():
            if not Budget.objects.filter(pk=budget.pk).exclude(alerted_month=month).update(alerted_month=month):
                continue  # another process got there first
            record(
                KIND,
                actor="billing",
                message=(
                    f"{budget.organization.name}: {total} {cost['currency']} this month, "
                    f"{budget.alert_pct} % of its budget of {budget.amount} is passed"
                ),
                after={"organization": budget.organization.slug, "cost": str(total), "budget": str(budget.amount)},
                # The organization's event: its own alert rules deliver it, nobody else's.
                organization_id=budget.organization_id,
            )
        alerted.append(budget.organization_id)
    return alerted
