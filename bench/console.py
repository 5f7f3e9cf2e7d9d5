"""Benchmark: server-side render time of the console's busiest pages with 500 container rows.

One run, in-process (Django's test client: middleware, view, queries, template — no network),
on a throwaway SQLite database (never the configured one: it fills tables). Median of 20 renders each of the
dashboard, the deployments list and the events list, beside a trivial view in the same run:
the login page, which renders the same base template through the same middleware with no
queries of its own (GET /health would be no fair floor: it renders no template at all).
The last line is one JSON object with the figures.
Run: .venv/bin/python bench/console.py
"""

from __future__ import annotations

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

from containers.models import Container, Deployment, Event, Image  # noqa: E402

DEPLOYMENTS = 50
CONTAINERS_EACH = 10  # 500 container rows
EVENTS = 2000
RUNS = 20
PAGES = {"dashboard": "/", "deployments": "/deployments/", "events": "/console/events/"}


def populate() -> None:
    image, _ = Image.objects.get_or_create(reference="bench/console:1", defaults={"size_bytes": 1})
    deployments = Deployment.objects.bulk_create(
        Deployment(
            name=f"bench-{i:03d}",
            image=image,
            replicas=CONTAINERS_EACH,
            cpu_limit=Decimal("0.1"),
            memory_limit_bytes=64 * 1024 * 1024,
            container_port=8080,
            state="running",
        )
        for i in range(DEPLOYMENTS)
    )
    Container.objects.bulk_create(
        Container(
            deployment=d,
            docker_id=f"{d.pk:032x}{n:032x}",
            name=f"{d.name}-{n}",
            status="running",
            host_port=20000 + d.pk * 20 + n,
        )
        for d in deployments
        for n in range(CONTAINERS_EACH)
    )
    Event.objects.bulk_create(
        Event(actor="bench", kind="container.started", deployment=deployments[i % DEPLOYMENTS], message=f"event {i}")
        for i in range(EVENTS)
    )


def queries(client: Client, path: str) -> int:
    """How many queries one render of ``path`` makes (the organization scope's cost shows here)."""
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured)


def median_ms(client: Client, path: str) -> float:
    times = []
    for _ in range(RUNS + 2):
        began = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
    return statistics.median(times[2:]) * 1000  # the first two warm caches and are not counted


def main() -> None:
    call_command("migrate", verbosity=0)
    populate()
    user = get_user_model().objects.create_user("bench-console", password=None, is_staff=True)
    # A member of the organization the rows are in (the default one), as a customer's operator is.
    from tenancy.models import Membership, default_organization

    Membership.objects.create(user=user, organization=default_organization(), role="operator")
    client = Client()
    client.force_login(user)

    trivial = median_ms(client, "/accounts/login/")
    print(f"trivial view (GET /accounts/login/): {trivial:.2f} ms")
    figures: dict[str, float] = {"trivial_ms": round(trivial, 2)}
    for name, path in PAGES.items():
        took = median_ms(client, path)
        figures[f"{name}_ms"] = round(took, 2)
        figures[f"{name}_ratio"] = round(took / trivial, 2)
        figures[f"{name}_queries"] = queries(client, path)
        print(
            f"{name} ({path}), {Container.objects.count()} containers: {took:.2f} ms, {took / trivial:.1f}x trivial, "
            f"{figures[f'{name}_queries']} queries"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
