"""The Billing area's charts: daily figures of the month stacked by deployment, laid out as SVG bars.

The figures come from one aggregate per query (``GROUP BY`` day, deployment and measure in the
database), so drawing a month costs the same few queries however many usage rows it has. The
layout is done here and the template only draws the rectangles (``billing/partials/stacked_chart.html``):
the daily cost chart and every usage chart are the same drawing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing import invoices, plans
from billing.models import Measure, Usage

CHART_SERIES = 6  # deployments drawn apart; the rest are stacked as "other"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"]
WIDTH, HEIGHT = 28, 160  # one day's slot and the chart's height, in SVG units
IMAGES = "images"  # what image storage (no deployment) is drawn as

# Per series (a deployment's name), per day: a figure.
Series = dict[str, dict[date, Decimal]]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class Chart:
    """One stacked bar chart, ready to draw: ``top`` is the highest day's stack, in ``unit``."""

    bars: list[Bar]
    legend: list[dict[str, str]]
    width: int
    height: int
    top: Decimal
    unit: str = ""
    key: str = ""
    title: str = ""
    totals: dict[str, Decimal] = field(default_factory=dict)


def month_days(month: date, now: datetime | None = None) -> list[date]:
    """The days of ``month`` up to today (all of them for a closed month)."""
    start, end = invoices.bounds(month)
    last = min(end, now or timezone.now())
    return [start.date() + timedelta(days=n) for n in range(max(0, (last - start).days) + 1) if n < (end - start).days]


def _daily(organization_id: int, starts_at: datetime, ends_at: datetime) -> list[tuple[date, str, str, Decimal]]:
    """Σ quantity per day, deployment and measure in ``[starts_at, ends_at)``: one query."""
    return list(
        Usage.objects.filter(organization_id=organization_id, hour__gte=starts_at, hour__lt=ends_at)
        .annotate(day=TruncDate("hour"))
        .values_list("day", "deployment_name", "measure")
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )


def daily_costs(organization_id: int, month: date) -> Series:
    """Cost per deployment and day this month (unrounded: a chart, not an invoice). One query per plan period."""
    start, end = invoices.bounds(month)
    costs: Series = defaultdict(lambda: defaultdict(Decimal))
    for span in plans.spans(organization_id, start, end):
        for day, deployment_name, measure, quantity in _daily(organization_id, span.starts_at, span.ends_at):
            costs[deployment_name or IMAGES][day] += quantity * span.plan.price(measure)
    return costs


def daily_usage(organization_id: int, month: date) -> dict[str, Series]:
    """Quantity per measure, deployment and day of ``month``, whatever it cost: one query."""
    start, end = invoices.bounds(month)
    used: dict[str, Series] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for day, deployment_name, measure, quantity in _daily(organization_id, start, end):
        used[measure][deployment_name or IMAGES][day] += quantity
    return used


def usage_charts(organization_id: int, month: date, days: list[date]) -> list[Chart]:
    """One chart per measure that has usage this month, stacked by deployment, in the measures' order."""
    used = daily_usage(organization_id, month)
    return [
        chart(days, used[measure.value], unit=measure.label, key=measure.value, title=measure.label)
        for measure in Measure
        if measure.value in used
    ]


def _grouped(values: Series) -> Series:
    """The largest ``CHART_SERIES`` series by total, the rest summed as "other"."""
    totals = {name: sum(per_day.values(), Decimal(0)) for name, per_day in values.items()}
    ranked = sorted(totals, key=lambda name: (-totals[name], name))
    series: Series = {name: values[name] for name in ranked[:CHART_SERIES]}
    if len(ranked) > CHART_SERIES:
        other: dict[date, Decimal] = defaultdict(Decimal)
        for name in ranked[CHART_SERIES:]:
            for day, value in values[name].items():
                other[day] += value
        series["other"] = other
    return series


def chart(days: list[date], values: Series, *, unit: str = "", key: str = "", title: str = "") -> Chart:
    """A stacked bar chart's bars and legend, laid out here so the template only draws."""
    series = _grouped(values)
    highest = max(
        [sum((per_day.get(day, Decimal(0)) for per_day in series.values()), Decimal(0)) for day in days] or [Decimal(0)]
    )
    bars = []
    for index, day in enumerate(days):
        y = float(HEIGHT)
        for color, (name, per_day) in zip(PALETTE, series.items(), strict=False):
            value = per_day.get(day, Decimal(0))
            if value <= 0 or highest <= 0:
                continue
            h = float(value / highest) * HEIGHT
            y -= h
            bars.append(Bar(index * WIDTH + 4, y, h, color, f"{day:%b %d} {name}: {value:.4f}"))
    legend = [{"name": name, "color": color} for color, name in zip(PALETTE, series, strict=False)]
    totals = {name: sum(per_day.values(), Decimal(0)) for name, per_day in series.items()}
    return Chart(bars, legend, max(1, len(days)) * WIDTH, HEIGHT, highest, unit, key, title, totals)
