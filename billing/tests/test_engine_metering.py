"""Against the real engine: a container burning CPU under a known limit, restarted in the middle by
the orchestrator and then scaled away by it, is metered to within 1 % of the kernel's own counter."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from billing import hourly
from billing.models import FinalReading, Usage
from conftest import deploy
from containers import hooks, reconcile
from containers.deployments import restart_container, scale
from containers.models import Container
from health import sampler, sources

BURN = ["sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]
HALF_S = 30  # burn this long before the restart and again after it


def kernel_cpu_ns(docker_id: str) -> int:
    """The container's CPU counter, read by the test straight from its cgroup."""
    layout = sources.host().layout
    assert layout is not None, "these tests read the cgroup files of a local engine"
    if layout.version == 2:
        stat = Path(layout.directory(docker_id), "cpu.stat").read_text()
        usec = next(int(line.split()[1]) for line in stat.splitlines() if line.startswith("usage_usec"))
        return usec * 1000
    return int(Path(layout.directory(docker_id, "cpuacct"), "cpuacct.usage").read_text())


def burn_and_sample(seconds: float) -> None:
    """Let the container burn, with a sampling round every SAMPLE_INTERVAL_S as beat would run it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sampler.sample_round()
        time.sleep(min(settings.SAMPLE_INTERVAL_S, max(0.0, deadline - time.monotonic())))


@pytest.fixture
def kernel_readings() -> Iterator[list[int]]:
    """The test's own reading of the cgroup at the last moment before the orchestrator stops or
    restarts a container: a receiver of the same hooks, told right after billing's."""
    readings: list[int] = []

    def read(docker_ids: Sequence[str]) -> None:
        readings.extend(kernel_cpu_ns(docker_id) for docker_id in docker_ids)

    hooks.before_container_stop.append(read)
    hooks.before_container_restart.append(read)
    yield readings
    hooks.before_container_stop.remove(read)
    hooks.before_container_restart.remove(read)


@pytest.mark.django_db
def test_a_burner_restarted_and_scaled_away_is_metered_to_within_one_percent(
    demo_image: Any, remove_test_containers: None, kernel_readings: list[int], settings: Any
) -> None:
    # The burner needs no network of its own, and the engine's address pools are shared and small.
    settings.DEPLOYMENT_NETWORKS = False
    started = hourly.hour_of(timezone.now())
    deployment = deploy(demo_image, "bill-burn", 1, cpu_limit=Decimal("0.25"), command=BURN)
    row = Container.objects.get(deployment=deployment)

    burn_and_sample(HALF_S)
    restart_container(row, actor="tests")
    reconcile.converge(deployment.pk)
    burn_and_sample(HALF_S)
    row.refresh_from_db()
    scale(deployment, 0, actor="tests")
    reconcile.converge(deployment.pk)
    assert not Container.objects.filter(pk=row.pk).exists()

    assert list(
        FinalReading.objects.filter(docker_id=row.docker_id).order_by("taken_at").values_list("reason", flat=True)
    ) == ["restart", "stop"]
    ended = hourly.hour_of(timezone.now())
    hourly.meter_hour(started)
    if ended != started:
        hourly.meter_hour(ended)
    metered = sum(
        Usage.objects.filter(docker_id=row.docker_id, measure="cpu_used").values_list("quantity", flat=True), Decimal(0)
    )
    # The counter just before the restart plus the new run's just before the stop: both runs counted,
    # neither lost at the restart nor counted twice.
    assert len(kernel_readings) == 2
    kernel = Decimal(sum(kernel_readings)) / 1_000_000_000
    assert kernel > Decimal(HALF_S) * Decimal("0.25")  # it did burn about its limit
    assert abs(metered - kernel) <= kernel / 100, (metered, kernel)
    reserved = Usage.objects.filter(docker_id=row.docker_id, measure="container_hours")
    assert sum(reserved.values_list("quantity", flat=True), Decimal(0)) * 3600 >= 2 * HALF_S - 10
