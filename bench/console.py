"""Benchmark: server-side render time of the console's busiest pages with many containers and events.

One run, in-process (Django's test client: middleware, view, queries, template — no network),
on a throwaway SQLite database (never the configured one: it fills tables). ``--containers N``
(default 500) container rows in deployments of 10, each with its health row (the sampler's current
figures), ``--events N`` (default 2000) events; rows only, no containers on the engine. Median of 20
renders each of the dashboard, the deployments list, the health fleet page and the events list, each
alternating with a trivial view: the login page, which renders the same base template through the same
middleware with no queries of its own (GET /health would be no fair floor: it renders no template at all).

Each page's queries are counted twice: with a tenth of the rows first, then with all of them; the
counts must be equal (no query per row). The last line is one JSON object with the figures (each
page with its own trivial median and ratio; ``<page>_cpu_ratio``: the same ratio in this process's CPU
time, which a busy machine disturbs less than wall time).
Run: .venv/bin/python bench/console.py [--containers N] [--events N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["ORCHESTRATOR_VAR_DIR"] = tempfile.mkdtemp(prefix="orchestrator-bench-console-")
os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['ORCHESTRATOR_VAR_DIR']}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from containers.models import Container, Deployment, Event, Image  # noqa: E402
from health.models import ContainerHealth  # noqa: E402

CONTAINERS_EACH = 10
RUNS = 20
PAGES = {
    "dashboard": "/",
    "deployments": "/deployments/",
    "fleet": "/console/health/",
    "events": "/console/events/",
}
BATCH = 2000
TRIVIAL = "/accounts/login/"


def populate(containers: int, events: int, first: int) -> None:
    """Add deployments of 10 containers until there are ``containers`` rows, and events until ``events``;
    ``first`` numbers the deployments on from the ones already there."""
    image, _ = Image.objects.get_or_create(reference="bench/console:1", defaults={"size_bytes": 1})
    have = Container.objects.count()
    wanted = -(-(containers - have) // CONTAINERS_EACH)
    deployments = Deployment.objects.bulk_create(
        Deployment(
            name=f"bench-{first + i:04d}",
            image=image,
            replicas=CONTAINERS_EACH,
            cpu_limit=Decimal("0.01"),
            memory_limit_bytes=16 * 1024 * 1024,
            container_port=8080,
            state="running",
        )
        for i in range(wanted)
    )
    Container.objects.bulk_create(
        (
            Container(
                deployment=d,
                organization_id=d.organization_id,
                docker_id=f"{d.pk:032x}{n:032x}",
                name=f"{d.name}-{n}",
                status="running",
                host_port=20000 + (d.pk * CONTAINERS_EACH + n) % 40000,
            )
            for d in deployments
            for n in range(CONTAINERS_EACH)
        ),
        batch_size=BATCH,
    )
    # Every container has its health row, as the sampler keeps one for each: mostly healthy, some warning
    # and critical, every tenth stopped.
    now = timezone.now()
    classes = ["healthy"] * 6 + ["warning", "critical", "healthy"]
    ContainerHealth.objects.bulk_create(
        (
            ContainerHealth(
                container_id=pk,
                organization_id=organization_id,
                health_class="stopped" if pk % 10 == 0 else classes[pk % len(classes)],
                class_since=now,
                sampled_at=now,
                source="cgroup",
                cpu_pct=None if pk % 10 == 0 else (pk * 37) % 1000 / 10,
                memory_bytes=None if pk % 10 == 0 else (pk % 16) * 1024 * 1024,
                memory_pct=None if pk % 10 == 0 else (pk * 7) % 100,
                memory_limit_bytes=16 * 1024 * 1024,
                pids=None if pk % 10 == 0 else 1 + pk % 5,
                net_rx_bytes=pk * 1000,
                net_tx_bytes=pk * 500,
            )
            for pk, organization_id in Container.objects.filter(health__isnull=True).values_list(
                "pk", "organization_id"
            )
        ),
        batch_size=BATCH,
    )
    every = list(Deployment.objects.values_list("pk", flat=True))
    have_events = Event.objects.count()
    Event.objects.bulk_create(
        (
            Event(actor="bench", kind="container.started", deployment_id=every[i % len(every)], message=f"event {i}")
            for i in range(have_events, events)
        ),
        batch_size=BATCH,
    )


def queries(client: Client, path: str) -> int:
    """The queries of one render, after one that fills what a page caches (the event kinds)."""
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return len(captured)


def timed_ms(client: Client, path: str) -> tuple[float, float]:
    """Wall and CPU milliseconds of one render."""
    began, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    took, cpu_took = (time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return took, cpu_took


def side_by_side(client: Client, path: str) -> tuple[float, float, float, float]:
    """Medians (ms) of ``path`` and of the trivial view, rendered alternately: on a shared machine a burst
    of load then hits both alike, instead of whichever was being measured at the time. Wall time first,
    then this process's CPU time (which other processes' load disturbs less) of the same renders."""
    page, trivial = [], []
    for _ in range(RUNS + 2):
        page.append(timed_ms(client, path))
        trivial.append(timed_ms(client, TRIVIAL))
    # The first two warm caches and are not counted.
    return (
        statistics.median(t for t, _ in page[2:]),
        statistics.median(t for t, _ in trivial[2:]),
        statistics.median(c for _, c in page[2:]),
        statistics.median(c for _, c in trivial[2:]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=500, help="container rows")
    parser.add_argument("--events", type=int, default=2000, help="event rows")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench-console", password=None, is_staff=True)
    # A member of the organization the rows are in (the default one), as a customer's operator is.
    from tenancy.models import Membership, default_organization

    Membership.objects.create(user=user, organization=default_organization(), role="operator")
    client = Client()
    client.force_login(user)

    populate(args.containers // 10, args.events // 10, 0)
    small = {name: queries(client, path) for name, path in PAGES.items()}
    small_rows = (Container.objects.count(), Event.objects.count())
    populate(args.containers, args.events, Deployment.objects.count())
    rows = (Container.objects.count(), Event.objects.count())
    print(f"{rows[0]} containers in {Deployment.objects.count()} deployments, {rows[1]} events")

    figures: dict[str, float | int | None] = {"containers": rows[0], "events": rows[1]}
    for name, path in PAGES.items():
        took, trivial, cpu, trivial_cpu = side_by_side(client, path)
        count = queries(client, path)
        figures[f"{name}_ms"] = round(took, 2)
        figures[f"{name}_trivial_ms"] = round(trivial, 2)
        figures[f"{name}_ratio"] = round(took / trivial, 2)
        figures[f"{name}_queries"] = count
        figures[f"{name}_cpu_ratio"] = round(cpu / trivial_cpu, 2) if trivial_cpu else None
        print(
            f"{name} ({path}): {took:.2f} ms, trivial view beside it {trivial:.2f} ms, {took / trivial:.1f}x; "
            f"{count} queries ({small[name]} with {small_rows[0]} containers and {small_rows[1]} events); "
            f"CPU {cpu:.2f} ms vs {trivial_cpu:.2f} ms"
        )
    figures["queries_constant"] = all(queries(client, path) == small[name] for name, path in PAGES.items())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
