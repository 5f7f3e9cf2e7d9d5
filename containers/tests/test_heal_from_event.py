"""A death the watcher reports converges with what the ``die`` event said: the replacement starts without
waiting for the engine to finish recording the death, the death is recorded once, and a restart the
orchestrator asked for is not taken for a death. Real engine, real database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from conftest import deploy, docker_cli, on_engine, wait_for
from containers import engine, reconcile
from containers.deployments import restart_container
from containers.models import Container, Event, Image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


def kill(row: Container) -> reconcile.Death:
    """Kill the container and say what its ``die`` event would: exit code 137, now."""
    docker_cli("kill", row.docker_id)
    return reconcile.Death(row.docker_id, 137, datetime.now(tz=UTC))


def test_a_death_from_the_event_is_replaced_and_recorded_with_the_events_exit_code(demo_image: Image) -> None:
    deployment = deploy(demo_image, "heal-event", replicas=2)
    victim = Container.objects.filter(deployment=deployment).first()
    assert victim is not None

    outcome = reconcile.converge(deployment.pk, died=victim.docker_id, death=kill(victim))

    assert outcome is not None and len(outcome.created) == 1 and outcome.removed == [victim.docker_id]
    alive = on_engine(deployment)
    assert len(alive) == 2 and victim.docker_id not in {c.id for c in alive}
    died = Event.objects.get(kind="container.died", container_docker_id=victim.docker_id)
    assert died.after["exit_code"] == 137
    assert died.after["started_at"] == victim.started_at.isoformat()


def test_the_same_death_seen_again_by_the_engines_record_is_not_recorded_twice(demo_image: Image) -> None:
    deployment = deploy(demo_image, "heal-once", replicas=1)
    [row] = Container.objects.filter(deployment=deployment)
    death = kill(row)
    dead = wait_for(lambda: [c for c in on_engine(deployment) if c.state == "exited"], what="the killed container")
    rows = {row.docker_id: row}

    reconcile._account_crashes(deployment, dead, rows, death.finished_at, death)  # from the event
    reconcile._account_crashes(deployment, dead, rows, death.finished_at)  # from the engine's inspect

    assert Event.objects.filter(kind="container.died", container_docker_id=row.docker_id).count() == 1


def test_a_restart_the_orchestrator_asked_for_is_not_replaced(demo_image: Image) -> None:
    deployment = deploy(demo_image, "heal-restart", replicas=1)
    [row] = Container.objects.filter(deployment=deployment)

    restart_container(row, actor="tests")
    # The restart's stop made a die event; the converge it queues arrives with the event's facts.
    reconcile.converge(deployment.pk, died=row.docker_id, death=reconcile.Death(row.docker_id, 0, datetime.now(UTC)))

    assert [c.id for c in on_engine(deployment)] == [row.docker_id]
    assert engine.inspect_container(row.docker_id).info.running
    assert not Event.objects.filter(kind="container.died", container_docker_id=row.docker_id).exists()


def test_the_cpu_limit_holds_once_the_container_runs(demo_image: Image) -> None:
    deployment = deploy(demo_image, "heal-cpu", replicas=1, cpu_limit=Decimal("0.01"))
    [row] = Container.objects.filter(deployment=deployment)

    detail = engine.inspect_container(row.docker_id)

    assert detail.info.running
    assert detail.cpu_limit == 0.01
