"""Benchmark: billing's metering against the kernel's counters, and its cost at scale.

One run, in this process (no web stack), under a throwaway instance label, in a temporary var dir
with SQLite (or whatever DATABASE_URL names):

- ``cpu_error_pct``: 5 containers burn CPU (0.1 core each) for 60 s with a sampling round every 5 s,
  then the orchestrator scales them away. The bench reads each one's cgroup counter itself at the
  last moment before the stop (its own receiver of ``before_container_stop``, told after billing's);
  the figure is the largest |metered - kernel| / kernel over the 5, in %.
- ``reserved_error_s``: metered reserved seconds vs the container's own times (the engine's start
  instant, and its ``die`` event from ``docker events``), the largest difference over the 5.
- ``csv_matches``: 1 when the invoice lines' CSV (the export the API streams) sums to the invoice
  total to the cent.
- ``meter_hour_s``: metering one hour of raw snapshots of 500 containers at a 5 s interval (360,000
  rows, generated into the database); the baseline is reading those rows alone.
- ``invoice_s``: a month's invoices of 100 organizations, each with 5 deployments × 7 measures ×
  48 hours of usage (168,000 rows); the baseline is one GROUP BY over the same usage.

The last line is one JSON object. Its containers are removed at the end.
Run: .venv/bin/python bench/metering.py   (needs a running Docker engine)
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR_DIR = Path(tempfile.mkdtemp(prefix="orchestrator-bench-metering-"))
INSTANCE = f"bench-{uuid.uuid4().hex[:8]}"
os.environ["ORCHESTRATOR_VAR_DIR"] = str(VAR_DIR)
os.environ["ORCHESTRATOR_INSTANCE"] = INSTANCE
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
# The burners need no network of their own, and the engine's address pools are shared and small.
os.environ.setdefault("DEPLOYMENT_NETWORKS", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing import exports, hourly, invoices, plans  # noqa: E402
from billing.models import (  # noqa: E402
    MEASURES,
    FinalReading,
    Invoice,
    InvoiceLine,
    MeteredContainer,
    MeteredHour,
    Plan,
    PlanPeriod,
    Usage,
)
from containers import hooks, instance_cleanup, reconcile  # noqa: E402
from containers.demo_image import ensure_demo_image  # noqa: E402
from containers.models import Container, Deployment  # noqa: E402
from health import sampler, sources  # noqa: E402
from health.models import ContainerHealth, Snapshot  # noqa: E402
from tenancy.models import Organization, default_organization  # noqa: E402

BURNERS = 5
BURN_S = 60.0
INTERVAL_S = 5.0
BURN = ["sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]
SCALE_CONTAINERS = 500
ORGS = 100
USAGE_DAYS = 2
FAKE_ID_BASE = 900_000_000


def kernel_cpu_ns(docker_id: str) -> int:
    layout = sources.host().layout
    assert layout is not None, "the bench reads the cgroup files of a local engine"
    if layout.version == 2:
        stat = Path(layout.directory(docker_id), "cpu.stat").read_text()
        return 1000 * next(int(line.split()[1]) for line in stat.splitlines() if line.startswith("usage_usec"))
    return int(Path(layout.directory(docker_id, "cpuacct"), "cpuacct.usage").read_text())


def die_times(since: float) -> dict[str, datetime]:
    """Each of our containers' ``die`` instant, as the engine's event stream has it."""
    out = subprocess.run(
        ["docker", "events", "--since", f"{since:.0f}", "--until", f"{time.time() + 1:.0f}",
         "--filter", f"label=orchestrator.instance={INSTANCE}", "--filter", "event=die",
         "--format", "{{.Actor.ID}} {{.TimeNano}}"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    times = {}
    for line in out.splitlines():
        docker_id, nanos = line.split()
        times[docker_id] = datetime.fromtimestamp(int(nanos) / 1e9, tz=UTC)
    return times


def burn(deployment: Deployment) -> tuple[float, float]:
    """Burn, sample, scale away; returns (largest CPU error %, largest reserved error s)."""
    kernel: dict[str, int] = {}

    def read(docker_ids: Sequence[str]) -> None:
        kernel.update({docker_id: kernel_cpu_ns(docker_id) for docker_id in docker_ids})

    began = time.time()
    started_hour = hourly.hour_of(timezone.now())
    reconcile.converge(deployment.pk)
    rows = {row.docker_id: row for row in Container.objects.filter(deployment=deployment)}
    deployment.refresh_from_db()
    assert len(rows) == BURNERS, f"{len(rows)} of {BURNERS} burners running: {deployment.last_error}"
    deadline = time.monotonic() + BURN_S
    while time.monotonic() < deadline:
        sampler.sample_round()
        time.sleep(min(INTERVAL_S, max(0.0, deadline - time.monotonic())))
    hooks.before_container_stop.append(read)
    try:
        Deployment.objects.filter(pk=deployment.pk).update(replicas=0)
        reconcile.converge(deployment.pk)
    finally:
        hooks.before_container_stop.remove(read)
    died = die_times(began)
    for hour in sorted({started_hour, hourly.hour_of(timezone.now())}):
        hourly.meter_hour(hour)

    cpu_errors, reserved_errors = [], []
    for docker_id, row in rows.items():
        usage = dict(Usage.objects.filter(docker_id=docker_id).values_list("measure").annotate(total=Sum("quantity")))
        metered_cpu = usage["cpu_used"]
        truth = Decimal(kernel[docker_id]) / 1_000_000_000
        cpu_errors.append(float(abs(metered_cpu - truth) / truth * 100))
        own = (died[docker_id] - row.started_at).total_seconds() if row.started_at else float("nan")
        reserved_errors.append(abs(float(usage["container_hours"] * 3600) - own))
        print(
            f"  {row.name}: metered {metered_cpu:.3f} CPU-s, kernel {truth:.3f} CPU-s; reserved "
            f"{float(usage['container_hours'] * 3600):.2f} s, own start..die {own:.2f} s"
        )
    return max(cpu_errors), max(reserved_errors)


def csv_matches(organization: Organization) -> int:
    plan = Plan.objects.create(
        name=f"bench-{INSTANCE}", currency="EUR", price_cpu_used=Decimal("0.0137"),
        price_cpu_reserved=Decimal("4.12"), price_memory_reserved=Decimal("0.45"),
        price_memory_used=Decimal("0.31"), price_network_out=Decimal("0.09"),
        price_container_hours=Decimal("0.1"), included_cpu_used=Decimal("1"),
    )  # fmt: skip
    plans.assign(organization.pk, plan, timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    invoice = invoices.refresh(organization.pk, invoices.month_of(timezone.now()))
    body = "".join(exports._lines(exports.LINE_HEADER, exports.line_rows(InvoiceLine.objects.filter(invoice=invoice))))
    total = sum((Decimal(row["amount"]) for row in csv.DictReader(io.StringIO(body))), Decimal(0))
    print(
        f"invoice {invoice.label}: {invoice.lines.count()} lines, total {invoice.total} {invoice.currency}, "
        f"CSV sums to {total}"
    )
    return int(total == invoice.total and invoice.total != 0)


def meter_hour_at_scale() -> tuple[float, float, int]:
    """Metering one generated hour of 500 containers' snapshots; baseline: reading those rows alone."""
    hour = hourly.hour_of(timezone.now()) - timedelta(hours=3)
    org = default_organization()
    MeteredContainer.objects.bulk_create(
        [
            MeteredContainer(
                container_id=FAKE_ID_BASE + n, docker_id=f"bench{n:059d}", name=f"bench-{n}", deployment_id=None,
                deployment_name=f"bench-d{n % 50}", organization=org, cpu_limit=Decimal("0.5"),
                memory_limit_bytes=256 * 1024**2, started_at=hour, seen_at=hour,
            )
            for n in range(SCALE_CONTAINERS)
        ]
    )  # fmt: skip
    per = int(3600 / INTERVAL_S)
    batch: list[Snapshot] = []
    for n in range(SCALE_CONTAINERS):
        for k in range(per):
            batch.append(
                Snapshot(
                    container_id=FAKE_ID_BASE + n, deployment_id=0, taken_at=hour + timedelta(seconds=k * INTERVAL_S),
                    running=True, health_class="healthy", cpu_usage_ns=k * 2_500_000_000 + n,
                    memory_bytes=100_000_000 + k, net_tx_bytes=k * 1500,
                )
            )  # fmt: skip
        if len(batch) >= 20_000:
            Snapshot.objects.bulk_create(batch)
            batch = []
    Snapshot.objects.bulk_create(batch)
    rows = Snapshot.objects.filter(taken_at__gte=hour, taken_at__lt=hour + timedelta(hours=1)).count()
    print(f"generated {rows} snapshots of {SCALE_CONTAINERS} containers in {hour:%H:%M}")

    began = time.perf_counter()
    raw = sum(
        1
        for _ in Snapshot.objects.filter(taken_at__gte=hour, taken_at__lt=hour + timedelta(hours=1))
        .annotate(at_us=hourly.EpochMicroseconds("taken_at"))
        .values_list(*hourly.READING_FIELDS)
        .iterator(chunk_size=20_000)
    )
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    result = hourly.meter_hour(hour)
    took = time.perf_counter() - began
    print(f"metering the hour: {took:.2f} s ({result.rows} usage rows); reading its {raw} rows alone: {baseline:.2f} s")
    Snapshot.objects.filter(container_id__gte=FAKE_ID_BASE).delete()
    MeteredContainer.objects.filter(container_id__gte=FAKE_ID_BASE).delete()
    Usage.objects.filter(hour=hour).delete()
    MeteredHour.objects.filter(hour=hour).delete()
    return took, baseline, rows


def invoices_at_scale() -> tuple[float, float, int]:
    month = invoices.month_of(timezone.now() - timedelta(days=40))
    start, _ = invoices.bounds(month)
    prices = {f"price_{measure}": Decimal("0.0123") for measure in MEASURES}
    plan = Plan.objects.create(name=f"bench-scale-{INSTANCE}", currency="EUR", **prices)
    organizations = Organization.objects.bulk_create(
        [Organization(name=f"bench-{INSTANCE}-{n}", slug=f"bench-{INSTANCE[-8:]}-{n}") for n in range(ORGS)]
    )
    measures = MEASURES
    rows: list[Usage] = []
    for org in organizations:
        plans.assign(org.pk, plan, start)
        for h in range(24 * USAGE_DAYS):
            at = start + timedelta(hours=h)
            for d in range(5):
                for measure in measures:
                    rows.append(
                        Usage(hour=at, organization=org, deployment_name=f"d{d}", container_name=f"d{d}-1",
                              docker_id=f"{org.slug}-{d}", measure=measure, quantity=Decimal("1.234567890123"))
                    )  # fmt: skip
        if len(rows) >= 20_000:
            Usage.objects.bulk_create(rows)
            rows = []
    Usage.objects.bulk_create(rows)
    ids = [org.pk for org in organizations]
    count = Usage.objects.filter(organization_id__in=ids).count()
    began = time.perf_counter()
    list(
        Usage.objects.filter(organization_id__in=ids, hour__gte=start)
        .values_list("organization_id", "deployment_name", "measure")
        .annotate(q=Sum("quantity"))
    )
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    for organization_id in ids:
        invoices.refresh(organization_id, month)
    took = time.perf_counter() - began
    print(
        f"invoices of {ORGS} organizations over {count} usage rows: {took:.2f} s; "
        f"one GROUP BY over them: {baseline:.2f} s"
    )
    Invoice.objects.filter(organization_id__in=ids).delete()
    Usage.objects.filter(organization_id__in=ids).delete()
    Organization.objects.filter(pk__in=ids).delete()
    return took, baseline, count


def main() -> None:
    call_command("migrate", verbosity=0)
    image = ensure_demo_image(actor="bench")
    organization = default_organization()
    deployment = Deployment.objects.create(
        name=f"bench-burn-{INSTANCE[-8:]}", image=image, replicas=BURNERS, cpu_limit=Decimal("0.1"),
        memory_limit_bytes=32 * 1024 * 1024, command=BURN,
    )  # fmt: skip
    try:
        cpu_error, reserved_error = burn(deployment)
        print(
            f"{BURNERS} burners, {BURN_S:g} s: CPU error {cpu_error:.4f} % (largest), "
            f"reserved error {reserved_error:.3f} s"
        )
        matches = csv_matches(organization)
        meter_s, meter_baseline, snapshots = meter_hour_at_scale()
        invoice_s, invoice_baseline, usage_rows = invoices_at_scale()
    finally:
        instance_cleanup.remove_all()
        ContainerHealth.objects.filter(container__deployment=deployment).delete()
        burners = MeteredContainer.objects.filter(deployment_id=deployment.pk)
        FinalReading.objects.filter(container_id__in=burners.values("container_id")).delete()
        Usage.objects.filter(docker_id__in=burners.values("docker_id")).delete()
        Snapshot.objects.filter(deployment_id=deployment.pk).delete()
        burners.delete()
        Snapshot.objects.filter(container_id__gte=FAKE_ID_BASE).delete()
        MeteredContainer.objects.filter(container_id__gte=FAKE_ID_BASE).delete()
        bench_plans = Plan.objects.filter(name__startswith=f"bench-{INSTANCE}") | Plan.objects.filter(
            name=f"bench-scale-{INSTANCE}"
        )
        Invoice.objects.filter(organization=organization, status=Invoice.Status.DRAFT).delete()
        PlanPeriod.objects.filter(plan__in=bench_plans).delete()
        bench_plans.delete()
        Deployment.objects.filter(pk=deployment.pk).delete()
        shutil.rmtree(VAR_DIR, ignore_errors=True)

    print(
        json.dumps(
            {
                "cpu_error_pct": round(cpu_error, 4),
                "reserved_error_s": round(reserved_error, 3),
                "csv_matches": matches,
                "meter_hour_s": round(meter_s, 3),
                "meter_hour_rows": snapshots,
                "meter_hour_ratio_vs_reading": round(meter_s / meter_baseline, 2),
                "invoice_s": round(invoice_s, 3),
                "invoice_usage_rows": usage_rows,
                "invoice_ratio_vs_group_by": round(invoice_s / invoice_baseline, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
