"""Which plan an organization is on, when: periods that never overlap, split at a change's instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import Invoice, Plan, PlanPeriod
from tenancy.errors import Invalid
from tenancy.models import Organization


@dataclass(frozen=True)
class Span:
    """A stretch of time under one plan: ``[starts_at, ends_at)``."""

    plan: Plan
    starts_at: datetime
    ends_at: datetime


def assign(organization_id: int, plan: Plan, starts_at: datetime) -> PlanPeriod:
    """Put the organization on ``plan`` from ``starts_at``: the period in force then ends there.

    Refused (400, naming ``starts_at``) when a period already starts at or after that instant, or
    when the instant falls in a month whose invoice is final (that month can't change any more).
    """
    with transaction.atomic():
        # One change at a time per organization: the overlap check and the write can't interleave.
        Organization.objects.select_for_update().filter(pk=organization_id).first()
        check(organization_id, plan, starts_at)
        PlanPeriod.objects.filter(organization_id=organization_id, starts_at__lt=starts_at).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=starts_at)
        ).update(ends_at=starts_at)
        period = PlanPeriod.objects.create(organization_id=organization_id, plan=plan, starts_at=starts_at)
    apply_quotas(organization_ids=[organization_id])
    return period


def check(organization_id: int, plan: Plan, starts_at: datetime) -> None:
    """What :func:`assign` refuses, for forms that show it at the field (raises ``Invalid``)."""
    if PlanPeriod.objects.filter(organization_id=organization_id, starts_at__gte=starts_at).exists():
        raise Invalid(
            "a plan period already starts at or after this instant; plan periods can't overlap", field="starts_at"
        )
    month = starts_at.date().replace(day=1)
    if Invoice.objects.filter(organization_id=organization_id, month__gte=month, status=Invoice.Status.FINAL).exists():
        raise Invalid("the invoice of this month is final; a plan change can only start later", field="starts_at")
    month_start = starts_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # One invoice, one currency: a month begun in one currency ends in it.
    other_currency = (
        PlanPeriod.objects.filter(organization_id=organization_id, starts_at__lt=starts_at)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=month_start))
        .exclude(plan__currency=plan.currency)
    )
    if starts_at != month_start and other_currency.exists():
        raise Invalid("a plan in another currency can only start on the first of a month (UTC)", field="plan")


def spans(organization_id: int, start: datetime, end: datetime) -> list[Span]:
    """The plan periods of the organization clipped to ``[start, end)``, in time order."""
    periods = (
        PlanPeriod.objects.filter(organization_id=organization_id, starts_at__lt=end)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=start))
        .select_related("plan")
        .order_by("starts_at")
    )
    return [Span(p.plan, max(p.starts_at, start), min(p.ends_at or end, end)) for p in periods]


def apply_quotas(now: datetime | None = None, organization_ids: list[int] | None = None) -> int:
    """Give each organization the quotas of the plan in force now (the fields the plan sets).

    Run when a plan is assigned and on every metering tick (a period that starts later takes effect
    then); idempotent. Returns how many organizations changed.
    """
    now = now or timezone.now()
    current = PlanPeriod.objects.filter(starts_at__lte=now).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    if organization_ids is not None:
        current = current.filter(organization_id__in=organization_ids)
    changed = 0
    for period in current.select_related("plan", "organization"):
        wanted = {f: getattr(period.plan, f) for f in Plan.QUOTA_FIELDS if getattr(period.plan, f) is not None}
        organization = period.organization
        if any(getattr(organization, f) != value for f, value in wanted.items()):
            Organization.objects.filter(pk=organization.pk).update(**wanted)
            changed += 1
    return changed
