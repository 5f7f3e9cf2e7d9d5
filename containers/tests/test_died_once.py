"""One death, one ``container.died`` event: a converge that saw a death but could not remove the
container (the engine went away mid-way, as it does while it restarts) sees it again next time."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import deploy, docker_cli, on_engine, wait_for
from containers import reconcile
from containers.models import Container, Event, Image

pytestmark = pytest.mark.django_db


def test_a_death_seen_by_two_converges_is_recorded_and_counted_once(
    demo_image: Image, remove_test_containers: None
) -> None:
    deployment = deploy(demo_image, "dies-once", replicas=1)
    [row] = Container.objects.filter(deployment=deployment)
    docker_cli("kill", row.docker_id)
    dead = wait_for(lambda: [c for c in on_engine(deployment) if c.state == "exited"], what="the killed container")
    rows = {row.docker_id: row}

    # Both converges observe the same dead container: the first's removal never happened.
    reconcile._account_crashes(deployment, dead, rows, timezone.now())
    reconcile._account_crashes(deployment, dead, rows, timezone.now())

    died = Event.objects.filter(kind="container.died", container_docker_id=row.docker_id)
    assert died.count() == 1
    assert died.get().after["finished_at"]
    deployment.refresh_from_db()
    assert deployment.crash_count <= 1


def test_a_container_that_dies_again_after_docker_restarted_it_is_a_second_death(
    demo_image: Image, remove_test_containers: None
) -> None:
    deployment = deploy(demo_image, "dies-twice", replicas=1)
    [row] = Container.objects.filter(deployment=deployment)
    rows = {row.docker_id: row}
    for _ in range(2):
        docker_cli("kill", row.docker_id)
        dead = wait_for(lambda: [c for c in on_engine(deployment) if c.state == "exited"], what="the dead container")
        reconcile._account_crashes(deployment, dead, rows, timezone.now())
        docker_cli("start", row.docker_id)  # as Docker's restart policy would
        wait_for(lambda: all(c.running for c in on_engine(deployment)), what="the restarted container")

    assert Event.objects.filter(kind="container.died", container_docker_id=row.docker_id).count() == 2
