"""The console's Billing area: month-to-date cost by deployment and by measure, a daily cost chart
stacked by deployment, the budget, invoices and their printable page, CSV downloads.

For staff, an organization's admins and its billing role (others get a 403); an invoice is looked
up in the caller's organization first, so another organization's is a 404. Every figure is read
through billing's own functions (``invoices.month_to_date``, the same lines an invoice gets).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import access, budgets, invoices, plans
from billing.models import Budget, Invoice, Measure, Usage
from tenancy.access import access as tenancy_access
from tenancy.errors import TenancyError
from tenancy.roles import MANAGE

CHART_SERIES = 6  # deployments drawn apart; the rest are stacked as "other"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    color: str
    title: str


def daily_costs(organization_id: int, month: date) -> tuple[list[date], dict[str, dict[date, Decimal]]]:
    """Cost per day and deployment this month (unrounded: a chart, not an invoice)."""
    start, end = invoices.bounds(month)
    now = timezone.now()
    days = [start.date() + timedelta(days=n) for n in range((min(end, now) - start).days + 1)]
    costs: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for span in plans.spans(organization_id, start, end):
        rows = (
            Usage.objects.filter(organization_id=organization_id, hour__gte=span.starts_at, hour__lt=span.ends_at)
            .annotate(day=TruncDate("hour"))
            .values_list("day", "deployment_name", "measure")
            .annotate(quantity=Sum("quantity"))
        )
        for day, deployment_name, measure, quantity in rows:
            costs[deployment_name or "images"][day] += quantity * span.plan.price(measure)
    return days, costs


def chart(days: list[date], costs: dict[str, dict[date, Decimal]]) -> dict[str, Any]:
    """An SVG stacked bar chart's bars and legend, laid out here so the template only draws."""
    totals = {name: sum(per_day.values(), Decimal(0)) for name, per_day in costs.items()}
    ranked = sorted(totals, key=lambda name: -totals[name])
    named = ranked[:CHART_SERIES]
    series = {name: costs[name] for name in named}
    if len(ranked) > CHART_SERIES:
        other: dict[date, Decimal] = defaultdict(Decimal)
        for name in ranked[CHART_SERIES:]:
            for day, cost in costs[name].items():
                other[day] += cost
        series["other"] = other
    highest = max(
        [sum((per_day.get(day, Decimal(0)) for per_day in series.values()), Decimal(0)) for day in days] or [Decimal(0)]
    )
    width, height = 28, 160
    bars = []
    for index, day in enumerate(days):
        y = float(height)
        for color, (name, per_day) in zip(PALETTE, series.items(), strict=False):
            cost = per_day.get(day, Decimal(0))
            if cost <= 0 or highest <= 0:
                continue
            h = float(cost / highest) * height
            y -= h
            bars.append(Bar(index * width + 4, y, h, color, f"{day:%b %d} {name}: {cost:.4f}"))
    legend = [{"name": name, "color": color} for color, name in zip(PALETTE, series, strict=False)]
    return {"bars": bars, "legend": legend, "width": max(1, len(days)) * width, "height": height, "top": highest}


def _breakdowns(lines: list[invoices.Line]) -> tuple[list[tuple[str, Decimal]], list[tuple[str, Decimal]]]:
    by_deployment: dict[str, Decimal] = defaultdict(Decimal)
    by_measure: dict[str, Decimal] = defaultdict(Decimal)
    labels = dict(Measure.choices)
    for line in lines:
        if line.kind == "usage":
            by_deployment[line.deployment_name or "images"] += line.amount
        by_measure[labels.get(line.measure, "credits") if line.kind != "credit" else "credits"] += line.amount
    return sorted(by_deployment.items(), key=lambda kv: -kv[1]), sorted(by_measure.items(), key=lambda kv: -kv[1])


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    current = access.require(request)
    if current.organization_id is None:
        raise Http404("no organization")
    organization_id = current.organization_id
    now = timezone.now()
    mtd = invoices.month_to_date(organization_id, now)
    lines: list[invoices.Line] = mtd["lines"]  # type: ignore[assignment]
    by_deployment, by_measure = _breakdowns(lines)
    days, costs = daily_costs(organization_id, invoices.month_of(now))
    month_start = invoices.bounds(invoices.month_of(now))[0]
    # What was used, whatever it cost: one aggregate over the month's hourly rows.
    used = (
        access.scoped(Usage.objects.filter(organization_id=organization_id, hour__gte=month_start), current)
        .values_list("measure")
        .annotate(quantity=Sum("quantity"))
        .order_by("measure")
    )
    labels = dict(Measure.choices)
    usage_totals = [(labels.get(measure, measure), quantity) for measure, quantity in used]
    listed = access.scoped(Invoice.objects.filter(organization_id=organization_id), current).order_by("-month")[:24]
    context = {
        "organization": current.organization,
        "mtd": mtd,
        "by_deployment": by_deployment,
        "by_measure": by_measure,
        "usage_totals": usage_totals,
        "chart": chart(days, costs),
        "invoices": listed,
        "budget": Budget.objects.filter(organization_id=organization_id).first(),
        "may_manage": current.can(MANAGE),
        "usage_csv": f"/api/usage/?format=csv&from={month_start:%Y-%m-%d}",
        "invoices_csv": "/api/invoices/?format=csv",
    }
    return render(request, "billing/overview.html", context)


@require_POST
@login_required
def budget(request: HttpRequest) -> HttpResponse:
    """Admins (and staff) set the organization's budget; the billing role reads it."""
    current = access.require(request)
    if not current.can(MANAGE) or current.organization_id is None:
        raise PermissionDenied("Only the organization's admins set its budget.")
    try:
        amount = Decimal(request.POST.get("amount", "").strip())
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        return _budget_refused(request, "amount", "the budget must be a number, e.g. 250.00")
    try:
        pct = int(request.POST.get("alert_pct", "80"))
    except ValueError:
        return _budget_refused(request, "alert_pct", "the alert share must be a whole percentage")
    try:
        budgets.set_budget(current.organization_id, amount, pct)
    except TenancyError as refused:
        return _budget_refused(request, refused.field or "amount", refused.message)
    return redirect("billing-overview")


def _budget_refused(request: HttpRequest, field: str, message: str) -> HttpResponse:
    return render(request, "billing/budget_refused.html", {"field": field, "message": message}, status=400)


@require_GET
@login_required
def invoice_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable invoice: looked up in the caller's organization first (404), then the role (403)."""
    current = tenancy_access(request)
    invoice = access.lookup(Invoice.objects.select_related("organization"), current).filter(pk=pk).first()
    if invoice is None:
        raise Http404("no such invoice")
    access.require(request)
    if not invoice.is_final:
        invoice = invoices.refresh(invoice.organization_id, invoice.month)
    context = {"invoice": invoice, "lines": list(invoice.lines.all()), "csv": f"/api/invoices/{invoice.pk}/?format=csv"}
    return render(request, "billing/invoice.html", context)
