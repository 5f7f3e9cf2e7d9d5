"""GET /api/containers/{id}/metrics/: a container's history by range and resolution."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from containers.models import Container, Deployment, Image
from health.models import HourRollup, MinuteRollup, Snapshot
from health.rollups import HOUR, MINUTE, floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def container() -> Container:
    image = Image.objects.create(reference="orchestrator-test/history:1")
    deployment = Deployment.objects.create(name="history", image=image, memory_limit_bytes=16 << 20)
    return Container.objects.create(deployment=deployment, docker_id=uuid.uuid4().hex * 2, name="history-1")


def snapshot(container: Container, ago: timedelta, cpu: float | None = 10.0, rx: int = 100) -> Snapshot:
    return Snapshot.objects.create(
        container_id=container.pk,
        deployment_id=container.deployment_id,
        taken_at=timezone.now() - ago,
        running=cpu is not None,
        health_class="healthy" if cpu is not None else "stopped",
        cpu_pct=cpu,
        memory_bytes=None if cpu is None else 4 << 20,
        memory_pct=None if cpu is None else 25.0,
        net_rx_bytes=None if cpu is None else rx,
        net_tx_bytes=None if cpu is None else rx // 2,
    )


def rollup(model: Any, container: Container, bucket: Any, cpu: float) -> None:
    model.objects.create(
        container_id=container.pk,
        deployment_id=container.deployment_id,
        bucket=bucket,
        samples=12,
        cpu_samples=12,
        cpu_pct_avg=cpu,
        cpu_pct_max=cpu + 5,
        memory_samples=12,
        memory_bytes_avg=1000.4,
        memory_bytes_max=2000,
        memory_pct_avg=33.333,
        memory_pct_max=40.0,
        net_rx_bytes=77,
        net_tx_bytes=66,
    )


def url(container: Container, query: str = "") -> str:
    return f"/api/containers/{container.docker_id}/metrics/" + (f"?{query}" if query else "")


def test_it_refuses_anonymous_users(anon_client: APIClient, container: Container) -> None:
    assert anon_client.get(url(container)).status_code in (401, 403)


def test_it_refuses_post(api_client: APIClient, container: Container) -> None:
    assert api_client.post(url(container)).status_code == 405


def test_raw_points_of_the_last_hour_are_the_default(api_client: APIClient, container: Container) -> None:
    snapshot(container, timedelta(minutes=90), cpu=99.0)
    snapshot(container, timedelta(minutes=30), cpu=20.0, rx=1000)
    snapshot(container, timedelta(minutes=10), cpu=None)
    snapshot(container, timedelta(minutes=1), cpu=30.0, rx=3000)

    response = api_client.get(url(container))

    assert response.status_code == 200
    body = response.json()
    assert body["range"] == "1h" and body["resolution"] == "raw"
    assert body["columns"] == ["t", "cpu_pct", "mem_bytes", "mem_pct", "rx_bytes", "tx_bytes"]
    assert body["container"]["id"] == container.docker_id and body["container"]["deployment"] == "history"
    points = body["points"]
    assert [p[1] for p in points] == [20.0, None, 30.0]  # oldest first; the stopped point has no figures
    assert points[0][1:] == [20.0, 4 << 20, 25.0, 1000, 500]
    assert points[0][0] < points[1][0] < points[2][0] <= timezone.now().timestamp()


@pytest.mark.parametrize(
    ("query", "resolution"),
    [
        ("range=15m", "raw"),
        ("range=1h", "raw"),
        ("range=24h", "1m"),
        ("range=7d", "1h"),
        ("range=7d&resolution=1m", "1m"),
    ],
)
def test_the_resolution_follows_the_range_unless_named(
    api_client: APIClient, container: Container, query: str, resolution: str
) -> None:
    body = api_client.get(url(container, query)).json()

    assert body["resolution"] == resolution and body["points"] == []


def test_15_minutes_leave_out_older_points(api_client: APIClient, container: Container) -> None:
    snapshot(container, timedelta(minutes=20))
    snapshot(container, timedelta(minutes=5))

    assert len(api_client.get(url(container, "range=15m")).json()["points"]) == 1


def test_24_hours_are_minute_buckets(api_client: APIClient, container: Container) -> None:
    now = timezone.now()
    rollup(MinuteRollup, container, floor(now - timedelta(hours=30), MINUTE), 1.0)
    rollup(MinuteRollup, container, floor(now - timedelta(hours=2), MINUTE), 2.0)
    rollup(MinuteRollup, container, floor(now - timedelta(minutes=1), MINUTE), 3.0)

    points = api_client.get(url(container, "range=24h")).json()["points"]

    assert [p[1] for p in points] == [2.0, 3.0]
    assert points[0] == [int(floor(now - timedelta(hours=2), MINUTE).timestamp()), 2.0, 1000, 33.33, 77, 66]


def test_7_days_are_hour_buckets(api_client: APIClient, container: Container) -> None:
    now = timezone.now()
    rollup(HourRollup, container, floor(now - timedelta(days=8), HOUR), 1.0)
    rollup(HourRollup, container, floor(now - timedelta(days=6), HOUR), 2.0)
    rollup(HourRollup, container, floor(now, HOUR), 3.0)

    body = api_client.get(url(container, "range=7d")).json()

    assert body["resolution"] == "1h" and [p[1] for p in body["points"]] == [2.0, 3.0]


def test_a_container_is_found_by_its_row_id_too(api_client: APIClient, container: Container) -> None:
    snapshot(container, timedelta(minutes=1))

    response = api_client.get(f"/api/containers/{container.pk}/metrics")

    assert response.status_code == 200 and len(response.json()["points"]) == 1


@pytest.mark.parametrize(
    ("query", "field"), [("range=2d", "range"), ("range=1H", "range"), ("resolution=5m", "resolution")]
)
def test_a_bad_parameter_is_a_400_naming_it(
    api_client: APIClient, container: Container, query: str, field: str
) -> None:
    response = api_client.get(url(container, query))

    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == [field] and field in body["error"]


def test_an_unknown_container_is_a_404(api_client: APIClient) -> None:
    response = api_client.get("/api/containers/0123456789abcdef/metrics/")

    assert response.status_code == 404 and "error" in response.json()


def test_the_query_count_does_not_grow_with_the_points(
    api_client: APIClient, container: Container, django_assert_max_num_queries: Any
) -> None:
    snapshot(container, timedelta(minutes=1))
    with django_assert_max_num_queries(10) as one:
        api_client.get(url(container))
    for minutes in range(2, 50):
        snapshot(container, timedelta(minutes=minutes))

    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(api_client.get(url(container)).json()["points"]) == 49
