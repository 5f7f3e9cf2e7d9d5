"""Readiness is written outside the deployment's lock (``reconcile.check_readiness``), so checks may race: a
container answering to 20 of them at once is marked ready once, with one event. Real PostgreSQL, committed
rows, a connection per thread."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from conftest import SMALL_CPU, SMALL_MEMORY
from containers import rollouts
from containers.models import Container, Deployment, Event, Image


def test_twenty_concurrent_checks_mark_a_container_ready_once(transactional_db: Any) -> None:
    image = Image.objects.create(reference="orchestrator-test/ready-race:1")
    deployment = Deployment.objects.create(
        name="ready-race", image=image, replicas=1, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    row = Container.objects.create(
        deployment=deployment, docker_id=uuid.uuid4().hex * 2, name="racer", status="running"
    )

    def mark(_: int) -> bool:
        try:
            return rollouts.set_ready(deployment, Container.objects.get(pk=row.pk), timezone.now())
        finally:
            connection.close()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(mark, range(20)))

    assert results.count(True) == 1
    assert Container.objects.get(pk=row.pk).ready_at is not None
    assert Event.objects.filter(kind="container.ready", container_docker_id=row.docker_id).count() == 1


@pytest.mark.django_db
def test_a_container_no_longer_running_is_not_marked_ready() -> None:
    image = Image.objects.create(reference="orchestrator-test/ready-stopped:1")
    deployment = Deployment.objects.create(
        name="ready-stopped", image=image, replicas=1, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    row = Container.objects.create(deployment=deployment, docker_id=uuid.uuid4().hex * 2, name="gone", status="running")
    Container.objects.filter(pk=row.pk).update(status=Container.Status.EXITED)

    assert rollouts.set_ready(deployment, row, timezone.now()) is False
    assert Container.objects.get(pk=row.pk).ready_at is None
    assert not Event.objects.filter(kind="container.ready").exists()
