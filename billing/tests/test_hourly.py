"""Hourly usage rows from snapshots and final readings: exact, idempotent, kept after deletion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing import hourly
from billing.models import FinalReading, MeteredHour, Usage
from billing.tests.factories import H0, container, deployment, readings
from health.models import Snapshot

pytestmark = pytest.mark.django_db


def usage(hour=H0) -> dict[tuple[str, str], Decimal]:  # type: ignore[no-untyped-def]
    return {(u.container_name, u.measure): u.quantity for u in Usage.objects.filter(hour=hour)}


def test_it_meters_cpu_seconds_from_counter_deltas_and_the_final_reading() -> None:
    row = container(deployment())
    last = readings(row, H0, 1800)  # 0.5 CPU-s a second for 30 min
    FinalReading.objects.create(
        container_id=row.pk, docker_id=row.docker_id, taken_at=H0 + timedelta(seconds=1802), reason="stop",
        cpu_usage_ns=last + 1_000_000_000, memory_bytes=0, net_tx_bytes=0,
    )  # fmt: skip
    hourly.meter_hour(H0)
    rows = usage()
    assert rows[("web-1", "cpu_used")] == Decimal(901)
    # Reserved from its own start (H0) to the final reading: 1802 s at 0.5 vCPU.
    assert rows[("web-1", "container_hours")] == (Decimal(1802) / 3600).quantize(Decimal("1e-12"))
    assert rows[("web-1", "cpu_reserved")] == (Decimal(901) / 3600).quantize(Decimal("1e-12"))


def test_running_it_twice_or_late_gives_the_same_rows() -> None:
    row = container(deployment())
    readings(row, H0, 3600 + 600)
    hourly.meter_hour(H0)
    first = sorted(Usage.objects.values_list("hour", "docker_id", "measure", "quantity"))
    hourly.meter_hour(H0 + timedelta(minutes=30))  # same hour, asked for by any instant in it
    hourly.meter_hour(H0)
    assert sorted(Usage.objects.values_list("hour", "docker_id", "measure", "quantity")) == first


def test_hours_split_the_run_without_loss() -> None:
    row = container(deployment())
    readings(row, H0 + timedelta(minutes=50), 1200)  # 20 min across the hour boundary
    hourly.meter_hour(H0)
    hourly.meter_hour(H0 + timedelta(hours=1))
    total = sum(Usage.objects.filter(measure="cpu_used").values_list("quantity", flat=True), Decimal(0))
    assert total == Decimal(600)
    assert Usage.objects.filter(measure="cpu_used").count() == 2


def test_usage_stays_with_the_organization_after_the_deployment_is_deleted() -> None:
    d = deployment("shop")
    row = container(d)
    readings(row, H0, 600)
    hourly.meter_hour(H0)
    before = usage()
    d.delete()
    hourly.meter_hour(H0)
    assert usage() == before
    assert set(Usage.objects.values_list("deployment_name", flat=True)) == {"shop"}


def test_a_reading_of_a_container_billing_never_knew_is_recorded_not_metered() -> None:
    Snapshot.objects.create(
        container_id=987654, deployment_id=1, taken_at=H0 + timedelta(minutes=1), running=True,
        health_class="healthy", cpu_usage_ns=5, memory_bytes=1, net_tx_bytes=1,
    )  # fmt: skip
    result = hourly.meter_hour(H0)
    assert result.rows == 0
    assert "never knew" in MeteredHour.objects.get(hour=H0).anomalies[0]


def test_a_counter_that_goes_backwards_is_a_restart_not_a_crash() -> None:
    row = container(deployment())
    readings(row, H0, 60)  # up to 30 CPU-s
    readings(row, H0 + timedelta(seconds=65), 60, base=0)  # restarted: from zero again, 30 more
    result = hourly.meter_hour(H0)
    assert usage()[("web-1", "cpu_used")] == Decimal(60)
    assert any("reset" in text for text in result.anomalies)


def test_pending_hours_include_the_current_one_and_remeter_the_last_closed() -> None:
    now = H0 + timedelta(minutes=20)
    hourly.meter_hour(H0 - timedelta(hours=3))
    pending = hourly.pending_hours(now)
    assert pending[-1] == H0
    assert H0 - timedelta(hours=1) in pending and H0 - timedelta(hours=2) in pending
    assert H0 - timedelta(hours=3) not in pending


def test_an_hour_of_a_month_whose_invoice_is_final_is_never_rewritten_for_that_organization() -> None:
    from datetime import UTC, date, datetime

    from billing import invoices, plans
    from billing.models import Invoice
    from billing.tests.factories import plan
    from tenancy.models import Organization, default_organization

    org = default_organization()
    other = Organization.objects.create(name="Other", slug="other")
    for organization in (org, other):
        plans.assign(organization.pk, plan(f"P{organization.pk}", cpu_used="0.01"), datetime(2026, 1, 1, tzinfo=UTC))
    ours, theirs = container(deployment("web")), container(deployment("shop", organization=other))
    readings(ours, H0, 600)
    readings(theirs, H0, 600)
    hourly.meter_hour(H0)
    final = invoices.finalize(org.pk, date(2026, 11, 1), actor="test", now=datetime(2026, 12, 1, 1, tzinfo=UTC))
    frozen = sorted(Usage.objects.filter(organization=org).values_list("docker_id", "measure", "quantity"))
    # Late readings of the hour for both: a final reading 10 CPU-s further on.
    for row in (ours, theirs):
        FinalReading.objects.create(
            container_id=row.pk, docker_id=row.docker_id, taken_at=H0 + timedelta(seconds=620), reason="stop",
            cpu_usage_ns=310_000_000_000, memory_bytes=0, net_tx_bytes=0,
        )  # fmt: skip
    result = hourly.meter_hour(H0)
    assert sorted(Usage.objects.filter(organization=org).values_list("docker_id", "measure", "quantity")) == frozen
    assert usage()[("shop-1", "cpu_used")] == Decimal(310)  # the other organization's draft month is re-metered
    assert usage()[("web-1", "cpu_used")] == Decimal(300)
    assert any("is final" in text for text in result.anomalies)
    assert any("is final" in text for text in MeteredHour.objects.get(hour=H0).anomalies)
    assert Invoice.objects.get(pk=final.pk).total == final.total
