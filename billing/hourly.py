"""Hourly usage rows from health's raw snapshots and billing's final readings.

``meter_hour(hour)`` is idempotent: it reads the readings of the hour (and each container's last
reading before it), runs the pure math of :mod:`billing.metering`, and replaces that hour's rows in
one transaction, so running it twice, late, or after a crash gives the same rows. Beat's tick
(``meter_pending``) meters every closed hour not yet metered and meters the last few again, so
late readings (a sampler round that lagged, a final reading) are taken in.

Raw snapshots are kept ``HEALTH_RAW_RETENTION_H``; an hour is metered only while its readings
and their baselines are still there. An organization's usage of an hour whose month's invoice is
final is never rewritten: the run leaves those rows as they are and records it on the hour.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import BigIntegerField, Func, Max
from django.utils import timezone

from billing import inventory, invoices, metering
from billing.models import FinalReading, Invoice, Measure, MeteredContainer, MeteredHour, Usage
from containers.models import Container, Image
from health.models import Snapshot
from tenancy.models import Organization

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
# The baseline (last reading before the hour) is looked for in this short stretch first; the few
# containers without one there (new, or after a gap) are looked up again across the retention.
NEAR = timedelta(minutes=2)
# Closed hours metered again on every tick: readings arrive late by up to a sampling round.
REMETER_HOURS = 2
READING_FIELDS = ("container_id", "at_us", "running", "cpu_usage_ns", "memory_bytes", "net_tx_bytes")


class EpochMicroseconds(Func):
    """A timestamp as integer microseconds since the epoch, computed by the database: turning 360,000
    timestamps into Python datetimes costs seconds, integers nearly nothing. Exact on both databases."""

    output_field = BigIntegerField()

    @property
    def convert_value(self) -> Any:
        # Both databases already answer an int: skipping Django's int() per row saves seconds an hour.
        return self._convert_value_noop  # type: ignore[attr-defined]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC): whole seconds, then the microseconds' digits.
        # (strftime('%s') can't be used: Django's SQLite cursor takes '%s' for a parameter.) julianday's
        # double is exact to ~40 µs here, so rounding it to whole seconds is exact.
        template = (
            "(CAST(round((julianday(substr(%(expressions)s, 1, 19)) - 2440587.5) * 86400) AS INTEGER) * 1000000"
            " + CAST(substr(%(expressions)s || '.000000', 21, 6) AS INTEGER))"
        )
        return self.as_sql(compiler, connection, template=template)


def us(at: datetime) -> int:
    """Epoch microseconds, exactly (integer arithmetic on timedelta, no float)."""
    return (at - EPOCH) // ONE_US


def hour_of(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def retention() -> timedelta:
    return timedelta(hours=settings.HEALTH_RAW_RETENTION_H)


@dataclass(frozen=True)
class Result:
    hour: datetime
    containers: int
    rows: int
    anomalies: list[str]


def _readings(start: datetime, end: datetime, ids: set[int] | None = None) -> dict[int, list[metering.Reading]]:
    """Snapshots and final readings in ``[start, end)``, per container, in time order."""
    by_container: dict[int, list[metering.Reading]] = defaultdict(list)
    snapshots = Snapshot.objects.filter(taken_at__gte=start, taken_at__lt=end)
    finals = FinalReading.objects.filter(taken_at__gte=start, taken_at__lt=end)
    if ids is not None:
        snapshots, finals = snapshots.filter(container_id__in=ids), finals.filter(container_id__in=ids)
    epoch = EpochMicroseconds("taken_at")
    for cid, at_us, running, cpu, memory, tx in (
        snapshots.annotate(at_us=epoch).values_list(*READING_FIELDS).iterator(chunk_size=20_000)
    ):
        by_container[cid].append((at_us, running, cpu, memory, tx))
    for cid, at_us, cpu, memory, tx in finals.annotate(at_us=epoch).values_list(
        "container_id", "at_us", "cpu_usage_ns", "memory_bytes", "net_tx_bytes"
    ):
        by_container[cid].append((at_us, True, cpu, memory, tx))
    for samples in by_container.values():
        samples.sort(key=_at)
    return by_container


def _at(reading: metering.Reading) -> int:
    return reading[0]


def _baselines(start: datetime, ids: set[int]) -> dict[int, metering.Reading]:
    """Each container's last reading before ``start`` (within the retention)."""
    found = {cid: samples[-1] for cid, samples in _readings(start - NEAR, start, ids).items()}
    missing = ids - found.keys()
    if missing:
        far = start - retention()
        last = dict(
            Snapshot.objects.filter(container_id__in=missing, taken_at__gte=far, taken_at__lt=start - NEAR)
            .values("container_id")
            .annotate(last=Max("taken_at"))
            .values_list("container_id", "last")
        )
        last_final = dict(
            FinalReading.objects.filter(container_id__in=missing, taken_at__gte=far, taken_at__lt=start - NEAR)
            .values("container_id")
            .annotate(last=Max("taken_at"))
            .values_list("container_id", "last")
        )
        for cid in missing:
            times = [t for t in (last.get(cid), last_final.get(cid)) if t is not None]
            if times:
                at = max(times)
                samples = _readings(at, at + ONE_US, {cid}).get(cid)
                if samples:
                    found[cid] = samples[-1]
    return found


def meter_hour(hour: datetime) -> Result:
    """Compute and store the usage rows of the hour starting at ``hour`` (replacing any earlier ones)."""
    start = hour_of(hour)
    end = start + HOUR
    readings = _readings(start, end)
    ids = set(readings)
    baselines = _baselines(start, ids)
    # Containers still known to the orchestrator are (re)remembered; the rest were remembered before they went.
    inventory.remember_all(Container.objects.filter(pk__in=ids))
    known = {m.container_id: m for m in MeteredContainer.objects.filter(container_id__in=ids)}
    far = start - retention()

    rows: list[Usage] = []
    anomalies: list[str] = []
    for cid in sorted(ids):
        entry = known.get(cid)
        if entry is None:
            anomalies.append(f"readings of container {cid}, which billing never knew; not metered")
            continue
        samples = readings[cid]
        baseline = baselines.get(cid)
        started = us(entry.started_at) if entry.started_at else None
        # Without a baseline, the first reading is the container's first only if it started within the retention.
        first_ever = baseline is None and (entry.started_at is None or entry.started_at >= far)
        totals = metering.meter(
            ([baseline] if baseline else []) + samples,
            us(start),
            us(end),
            started_us=started,
            first_ever=first_ever,
            gap_us=settings.BILLING_GAP_S * metering.US_PER_S,
        )
        anomalies.extend(f"{entry.docker_id[:12]}: {text}" for text in totals.anomalies)
        for measure, quantity in metering.quantities(
            totals, Decimal(entry.cpu_limit), entry.memory_limit_bytes
        ).items():
            if quantity:
                rows.append(_row(start, entry, measure, quantity))

    with transaction.atomic():
        frozen = _lock_and_find_final(start, {row.organization_id for row in rows})
        if frozen:
            kept = [row for row in rows if row.organization_id not in frozen]
            anomalies.extend(
                f"organization {organization_id}: its invoice of {start:%Y-%m} is final; its usage of this hour "
                "is left as that invoice was computed from it"
                for organization_id in sorted(frozen)
            )
            rows = kept
        Usage.objects.filter(hour=start).exclude(measure=Measure.STORAGE).exclude(organization_id__in=frozen).delete()
        Usage.objects.bulk_create(rows, batch_size=5_000)
        _storage(start)
        MeteredHour.objects.update_or_create(
            hour=start,
            defaults={
                "metered_at": timezone.now(),
                "containers": len(ids),
                "rows": len(rows),
                "anomalies": anomalies[:200],
            },
        )
    if anomalies:
        log.info("metering %s: %d anomalies, e.g. %s", start.isoformat(), len(anomalies), anomalies[0])
    return Result(start, len(ids), len(rows), anomalies)


def _lock_and_find_final(hour: datetime, writing: set[int]) -> set[int]:
    """The organizations whose invoice of ``hour``'s month is final: their usage of the hour is never
    rewritten (a final invoice was computed from it). Called inside the transaction that replaces the
    hour's rows, after locking the rows of the organizations it touches: finalization takes the same
    lock (``invoices.finalize``), so an invoice is either final before this run reads it or computed
    after this run's rows are in, never from rows that change under it."""
    touched = writing | set(
        Usage.objects.filter(hour=hour).values_list("organization_id", flat=True).distinct().order_by()
    )
    if not touched:
        return set()
    # In id order, as every metering run locks them: two runs never wait on each other crosswise.
    list(Organization.objects.select_for_update().filter(pk__in=touched).order_by("pk").values_list("pk", flat=True))
    final = Invoice.objects.filter(
        month=invoices.month_of(hour), status=Invoice.Status.FINAL, organization_id__in=touched
    )
    return set(final.values_list("organization_id", flat=True))


def _storage(hour: datetime) -> None:
    """Image storage of the hour, as GB-months: written once, while the hour is recent.

    Which images existed is only known now (there is no history of images), so an hour's storage
    rows are written by the first run that meters it within ``REMETER_HOURS`` and never rewritten.
    """
    if (
        hour < hour_of(timezone.now()) - REMETER_HOURS * HOUR
        or Usage.objects.filter(hour=hour, measure=Measure.STORAGE).exists()
    ):
        return
    month_start = hour.replace(day=1, hour=0)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    hours_in_month = Decimal((next_month - month_start) // HOUR)
    rows = []
    # A shared image (no organization: the demo image) is nobody's bill. Nor is the storage of an
    # organization whose invoice of the month is final (staff may finalize as soon as it ends).
    final = Invoice.objects.filter(month=invoices.month_of(hour), status=Invoice.Status.FINAL)
    images = Image.objects.filter(size_bytes__gt=0, organization__isnull=False)
    for image in images.exclude(organization_id__in=final.values("organization_id")):
        organization_id = cast(int, image.organization_id)
        quantity = metering.quantize(Decimal(image.size_bytes) / metering.BYTES_PER_GB / hours_in_month)
        rows.append(
            Usage(
                hour=hour,
                organization_id=organization_id,
                deployment_name="",
                container_name=image.reference[:128],
                docker_id=f"image:{image.pk}",
                measure=Measure.STORAGE,
                quantity=quantity,
            )
        )
    Usage.objects.bulk_create(rows)


def _row(hour: datetime, entry: MeteredContainer, measure: str, quantity: Decimal) -> Usage:
    return Usage(
        hour=hour,
        organization_id=entry.organization_id,
        deployment_id=entry.deployment_id,
        deployment_name=entry.deployment_name,
        container_id=entry.container_id,
        container_name=entry.name,
        docker_id=entry.docker_id,
        measure=measure,
        quantity=quantity,
    )


def pending_hours(now: datetime | None = None) -> list[datetime]:
    """Hours to meter now: closed ones never metered within the retention, the last few closed ones
    again, and the current one so far."""
    now = now or timezone.now()
    last_closed = hour_of(now) - HOUR
    current = hour_of(now)  # metered as far as it goes, for month-to-date figures; again when closed
    oldest = hour_of(now - retention()) + HOUR  # its baseline may already be pruned before that
    done = set(MeteredHour.objects.filter(hour__gte=oldest).values_list("hour", flat=True))
    hours = []
    at = oldest
    while at <= current:
        if at not in done or at > last_closed - REMETER_HOURS * HOUR:
            hours.append(at)
        at += HOUR
    return hours


def meter_pending(now: datetime | None = None) -> list[Result]:
    return [meter_hour(hour) for hour in pending_hours(now)]
