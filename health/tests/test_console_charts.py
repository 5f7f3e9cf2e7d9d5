"""One container's charts page ``/console/health/containers/<pk>/``: the vendored uPlot (no CDN), the history
endpoint it fetches with the session, the link from the container page; and a real sampler round shown."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from conftest import deploy, docker_cli
from containers.models import Container, Deployment, Image
from health import sampler, sources
from health.models import ContainerHealth, Snapshot

MIB = 1024 * 1024


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def container_row(name: str = "web-1") -> Container:
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/charts:1")
    owner = Deployment.objects.create(name="web", image=image, replicas=1, memory_limit_bytes=64 * MIB)
    return Container.objects.create(deployment=owner, docker_id=uuid.uuid4().hex * 2, name=name, status="running")


def sampled(row: Container, seconds_ago: list[int], rx: list[int]) -> None:
    """Snapshots as the sampler writes them, ``seconds_ago`` apart, with the cumulative rx counter given."""
    now = timezone.now()
    Snapshot.objects.bulk_create(
        Snapshot(
            container=row,
            deployment_id=row.deployment_id,
            taken_at=now - timedelta(seconds=ago),
            running=True,
            health_class="healthy",
            cpu_pct=12.5,
            memory_bytes=8 * MIB,
            memory_pct=12.5,
            net_rx_bytes=received,
            net_tx_bytes=received // 2,
        )
        for ago, received in zip(seconds_ago, rx, strict=True)
    )
    ContainerHealth.objects.create(
        container=row,
        health_class="healthy",
        class_since=now,
        sampled_at=now,
        cpu_pct=12.5,
        memory_bytes=8 * MIB,
        memory_limit_bytes=64 * MIB,
        memory_pct=12.5,
        net_rx_bytes=rx[-1],
        net_tx_bytes=rx[-1] // 2,
    )


@pytest.mark.django_db
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client) -> None:
    row = container_row()

    response = client.get(f"/console/health/containers/{row.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_an_unknown_container_is_404(alice: Client) -> None:
    assert alice.get("/console/health/containers/999999/").status_code == 404


@pytest.mark.django_db
def test_the_page_loads_the_vendored_chart_library_and_no_external_url(alice: Client) -> None:
    row = container_row()
    sampled(row, [10, 5, 0], [100, 200, 300])

    response = alice.get(f"/console/health/containers/{row.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="/static/vendor/uplot/uPlot.iife.min.js" defer></script>' in html
    assert '<script src="/static/health_charts.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css">' in html
    # Every script and stylesheet comes from our own static files.
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/static/") for url in assets), assets
    for path in ["vendor/uplot/uPlot.iife.min.js", "vendor/uplot/uPlot.min.css", "vendor/uplot/LICENSE"]:
        assert finders.find(path), path
    # What the script needs, and the figures as text for anyone who can't see the charts.
    assert f'data-metrics-url="/api/containers/{row.pk}/metrics/"' in html
    for caption in ["cpu-caption", "memory-caption", "network-caption"]:
        assert f'<figcaption id="{caption}">' in html
    assert "12.5 %" in html and "8 MiB (12.5 % of its limit)" in html
    assert html.count('data-range="') == 5  # the chart's own, then 15 min, 1 h, 24 h, 7 d
    assert 'data-range="15m" aria-pressed="true"' in html
    assert 'aria-current="page">Fleet</a>' in html


@pytest.mark.django_db
def test_a_container_never_sampled_still_has_its_page(alice: Client) -> None:
    row = container_row()

    response = alice.get(f"/console/health/containers/{row.pk}/")

    assert response.status_code == 200
    assert "not sampled" in response.content.decode()


@pytest.mark.django_db
def test_the_data_endpoint_answers_the_page_s_session_with_the_container_s_points(alice: Client) -> None:
    row = container_row()
    sampled(row, [10, 5, 0], [100, 600, 50])

    for range_name in ["15m", "1h", "24h", "7d"]:
        response = alice.get(f"/api/containers/{row.pk}/metrics/?range={range_name}")
        assert response.status_code == 200, range_name
        assert response.json()["range"] == range_name
    body = alice.get(f"/api/containers/{row.pk}/metrics/?range=15m").json()

    assert body["container"]["pk"] == row.pk
    assert body["columns"] == ["t", "cpu_pct", "mem_bytes", "mem_pct", "rx_bytes", "tx_bytes"]
    # Cumulative counters as stored (the last one reset with a restart): the script takes the rates.
    assert [point[4] for point in body["points"]] == [100, 600, 50]


@pytest.mark.django_db(transaction=True)
def test_after_a_real_sampling_round_both_pages_show_the_container_s_figures(
    alice: Client, demo_image: Image, remove_test_containers: None
) -> None:
    sources.reset_host()
    deployment = deploy(demo_image, "charted")
    container = Container.objects.get(deployment=deployment)
    docker_cli("exec", "-d", container.docker_id, "sh", "-c", "while :; do :; done")
    sampler.sample_round()
    time.sleep(1)
    sampler.sample_round()

    health = ContainerHealth.objects.get(container=container)
    fleet = alice.get("/console/health/?sort=-cpu").content.decode()
    row = re.search(rf'<tr id="fleet-{container.pk}"[^>]*>.*?</tr>', fleet, re.S).group(0)
    assert f'data-class="{health.health_class}"' in row
    assert health.health_class in ("warning", "critical")
    assert f"{health.cpu_pct:.1f} %" in row
    assert "MiB" in row and "/ 16 MiB" in row

    charts = alice.get(f"/console/health/containers/{container.pk}/").content.decode()
    assert f"{health.cpu_pct:.1f} %" in charts
    points = alice.get(f"/api/containers/{container.pk}/metrics/?range=15m").json()["points"]
    assert len(points) == 2 and points[-1][1] == pytest.approx(health.cpu_pct, abs=0.01)

    # The container's own page links to its charts.
    detail = alice.get(f"/console/containers/{container.pk}/").content.decode()
    assert f'href="/console/health/containers/{container.pk}/"' in detail
