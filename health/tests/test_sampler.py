"""The sampler against the real engine and database: rounds called directly (not via beat), a short sleep between."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import docker_cli
from containers import engine, reconcile
from containers.deployments import create_deployment
from containers.models import Container, Deployment, Event, Image
from health import sampler, sources
from health.models import ContainerHealth, Snapshot
from orchestrator_site.processes.models import Heartbeat

# Committed for real, like test_reconcile: rolled-back ids would be reused and adopt an earlier test's containers.
pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024


def deploy(image: Image, name: str, replicas: int = 1) -> Deployment:
    deployment = create_deployment(
        actor="tests",
        name=name,
        image=image,
        replicas=replicas,
        cpu_limit=Decimal("0.1"),
        memory_limit_bytes=16 * MIB,
    )
    reconcile.converge(deployment.pk)
    return deployment


def one_container(image: Image, name: str) -> Container:
    return Container.objects.get(deployment=deploy(image, name))


def rounds(count: int, pause: float = 1.0) -> list[sampler.RoundResult]:
    results = []
    for index in range(count):
        if index:
            time.sleep(pause)
        results.append(sampler.sample_round())
    return results


def health_of(container: Container) -> ContainerHealth:
    return ContainerHealth.objects.get(container=container)


def class_events(container: Container) -> list[tuple[Any, Any]]:
    events = Event.objects.filter(kind="health.class_changed", container_docker_id=container.docker_id)
    return [(e.before["class"], e.after["class"]) for e in events.order_by("created_at", "id")]


@pytest.fixture(autouse=True)
def _fresh_host_detection() -> None:
    sources.reset_host()


def test_a_container_burning_its_cpu_is_warning_or_critical_within_two_rounds(demo_image: Image) -> None:
    container = one_container(demo_image, "burn")
    docker_cli("exec", "-d", container.docker_id, "sh", "-c", "while :; do :; done")

    rounds(2)

    health = health_of(container)
    assert health.health_class in ("warning", "critical"), health.cpu_pct
    assert health.cpu_pct is not None and health.cpu_pct >= 75
    assert health.source == "cgroup"
    # The first round had no previous reading to take a CPU rate from: healthy, then the change.
    assert class_events(container) == [("healthy", health.health_class)]


def test_a_container_near_its_memory_limit_is_warning_or_critical(demo_image: Image) -> None:
    container = one_container(demo_image, "fill")
    # /dev/shm is memory charged to the container: 13 MiB of its 16 MiB, short of the OOM killer.
    # Written before the first round, so dd's own burst of CPU falls in no round's CPU delta.
    docker_cli("exec", container.docker_id, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=13")

    rounds(2)

    health = health_of(container)
    assert health.health_class in ("warning", "critical")
    assert health.memory_pct is not None and health.memory_pct >= 75
    assert health.memory_limit_bytes == 16 * MIB and health.memory_bytes >= 13 * MIB
    # A first class that is bad is news too; the second round at the same class adds no event.
    assert class_events(container) == [(None, health.health_class)]


def test_a_stopped_container_is_stopped_and_the_change_is_one_event(demo_image: Image) -> None:
    container = one_container(demo_image, "halt")
    sampler.sample_round()
    docker_cli("stop", "-t", "1", container.docker_id)

    rounds(2, pause=0.2)

    assert health_of(container).health_class == "stopped"
    assert class_events(container) == [("healthy", "stopped")]
    latest = Snapshot.objects.filter(container_id=container.pk).order_by("-taken_at").first()
    assert latest is not None and latest.running is False and latest.health_class == "stopped"
    assert latest.cpu_pct is None and latest.memory_bytes is None and latest.cpu_usage_ns is None


def test_each_snapshot_keeps_the_cumulative_counters(demo_image: Image) -> None:
    container = one_container(demo_image, "counters")

    rounds(2, pause=0.3)

    first, second = Snapshot.objects.filter(container_id=container.pk).order_by("taken_at")
    assert first.deployment_id == container.deployment_id and first.running and first.health_class == "healthy"
    assert first.cpu_pct is None and second.cpu_pct is not None  # a rate needs two readings
    assert 0 < first.cpu_usage_ns <= second.cpu_usage_ns
    assert second.net_rx_bytes is not None and second.net_tx_bytes is not None
    assert second.blk_read_bytes is not None and second.pids is not None and second.pids >= 1
    assert 0 < second.memory_bytes < 16 * MIB and second.memory_pct == pytest.approx(
        second.memory_bytes / MIB / 16 * 100, abs=0.01
    )


def test_the_queries_of_a_round_do_not_grow_with_the_containers(demo_image: Image) -> None:
    deployment = deploy(demo_image, "bulk", replicas=1)
    rounds(2, pause=0.1)
    with CaptureQueriesContext(connection) as one:
        assert sampler.sample_round().containers == 1

    Deployment.objects.filter(pk=deployment.pk).update(replicas=4)
    reconcile.converge(deployment.pk)
    rounds(2, pause=0.1)
    with CaptureQueriesContext(connection) as four:
        assert sampler.sample_round().containers == 4

    assert len(four.captured_queries) == len(one.captured_queries)
    inserts = [q["sql"] for q in four.captured_queries if 'INSERT INTO "health_snapshot"' in q["sql"]]
    assert len(inserts) == 1


def test_the_stats_api_stands_in_when_the_cgroup_files_are_not_used(demo_image: Image, settings: Any) -> None:
    settings.HEALTH_SAMPLER_SOURCE = "api"
    container = one_container(demo_image, "remote")
    docker_cli("exec", "-d", container.docker_id, "sh", "-c", "while :; do :; done")

    results = rounds(2)

    assert results[-1].sources == {"api": 1}
    health = health_of(container)
    assert health.source == "api" and health.memory_limit_bytes == 16 * MIB
    assert health.health_class in ("warning", "critical") and health.cpu_pct is not None


def test_a_container_gone_from_the_engine_is_left_out(demo_image: Image) -> None:
    container = one_container(demo_image, "gone")
    docker_cli("rm", "-f", container.docker_id)

    result = sampler.sample_round()

    assert result.containers == 0
    assert not Snapshot.objects.filter(container_id=container.pk).exists()


@pytest.mark.parametrize(
    ("docker_host", "remote"),
    [("", False), ("unix:///var/run/docker.sock", False), ("tcp://10.0.0.5:2376", True), ("ssh://ops@box", True)],
)
def test_an_engine_is_remote_unless_reached_through_a_local_socket(docker_host: str, remote: bool) -> None:
    assert sources.is_remote(docker_host) is remote


def test_beats_ticks_that_overlap_run_one_round(demo_image: Image) -> None:
    assert sampler.run_scheduled() is not None
    assert sampler.run_scheduled() is None


def test_the_health_path_gives_the_class_and_the_latest_figures(demo_image: Image, api_client: APIClient) -> None:
    container = one_container(demo_image, "report")
    docker_cli("exec", "-d", container.docker_id, "sh", "-c", "while :; do :; done")
    rounds(2)

    body = api_client.get(f"/containers/instances/{container.docker_id}/health").json()

    assert body["status"] in ("warning", "critical") and body["basis"] == "usage"
    assert {"class": "healthy", "basis": "state"} in body["verdicts"]
    metrics = body["metrics"]
    assert metrics["class"] == body["status"] and metrics["cpu_pct"] >= 75
    assert metrics["memory_limit_bytes"] == 16 * MIB and metrics["source"] == "cgroup"
    assert "probes" not in body  # no probes exist yet


def test_health_detailed_reports_the_sampler_and_its_lag(
    demo_image: Image, api_client: APIClient, settings: Any
) -> None:
    deploy(demo_image, "lag")
    sampler.sample_round()

    body = api_client.get("/health/detailed").json()

    assert body["components"]["sampler"]["status"] == "ok"
    assert "lag" in body["components"]["sampler"]["detail"]
    assert body["sampler"]["containers"] == 1 and body["sampler"]["lag_s"] == 0.0
    assert body["sampler"]["interval_s"] == settings.SAMPLE_INTERVAL_S and body["sampler"]["duration_ms"] > 0


def test_beat_queues_a_round_every_interval(settings: Any) -> None:
    from orchestrator_site.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    entry = settings.CELERY_BEAT_SCHEDULE["sample-health"]

    assert entry["task"] == "health.tasks.sample" and entry["task"] in app.tasks
    assert entry["schedule"] == settings.SAMPLE_INTERVAL_S == entry["options"]["expires"]


def test_the_beat_task_samples_and_skips_quietly_when_the_engine_is_down(demo_image: Image, settings: Any) -> None:
    from health import tasks

    container = one_container(demo_image, "task")
    tasks.sample()
    assert health_of(container).health_class == "healthy"
    last_round = sampler.status().last_round_at

    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    sources.reset_host()
    try:
        Heartbeat.objects.filter(component="sampler-claim").update(seen_at=timezone.now() - timedelta(minutes=1))
        tasks.sample()  # no exception: the next tick tries again
    finally:
        settings.DOCKER_HOST = ""
        engine.reset_client()
    assert Snapshot.objects.filter(container_id=container.pk).count() == 1
    # The failed round is not a round: the sampler's last round is still the first one.
    assert sampler.status().last_round_at == last_round
