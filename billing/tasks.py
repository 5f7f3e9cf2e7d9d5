"""Celery tasks of the billing app: thin wrappers around metering and invoice finalization."""

from __future__ import annotations

from celery import shared_task

from billing import budgets, hourly, invoices, plans
from orchestrator_site.processes import heartbeats

CLAIM_JOB = "billing-meter"


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def meter() -> None:
    """Beat's metering tick: the hours still to meter (idempotent; one process at a time)."""
    from django.conf import settings

    if heartbeats.claim(CLAIM_JOB, settings.BILLING_METER_INTERVAL_S / 2):
        plans.apply_quotas()
        hourly.meter_pending()
        invoices.refresh_open()
        budgets.check()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def finalize_closed_months() -> None:
    invoices.finalize_closed_months()
