"""A death the watcher reports converges with what the ``die`` event said: the replacement starts without
waiting for the engine to finish recording the death, the death is recorded once, and a restart the
orchestrator asked for is not taken for a death. Real engine, real database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from conftest import deploy, docker_cli, on_engine, wait_for
from containers import engine, hooks, reconcile
from containers.deployments import restart_container
from containers.locks import deployment_lock
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


def test_a_deaths_converge_probes_no_readiness_and_the_check_after_it_holds_no_lock_while_probing(
    demo_image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy(demo_image, "heal-no-probe", replicas=2)
    victim, newcomer = Container.objects.filter(deployment=deployment).order_by("pk")
    # The other container has not been found ready yet (started a moment ago).
    Container.objects.filter(pk=newcomer.pk).update(ready_at=None)
    probed: list[int] = []
    lock_free_while_probing: list[bool] = []
    published: list[int] = []

    def probe(container_pk: int) -> bool:
        probed.append(container_pk)
        lock_free_while_probing.append(lock_is_free(deployment.pk))
        return True

    monkeypatch.setattr(hooks, "readiness", [probe])
    monkeypatch.setattr(hooks, "after_converge", [published.append])

    outcome = reconcile.converge(deployment.pk, died=victim.docker_id, death=kill(victim))

    assert outcome is not None and len(outcome.created) == 1
    assert probed == []  # the replacement waited for no readiness probe
    published.clear()
    # The check queued for the replacement probes both new containers, with the lock free for the next death.
    assert reconcile.check_readiness(deployment.pk) == 0
    assert set(probed) == {newcomer.pk, outcome.created[0].pk}
    assert lock_free_while_probing == [True, True]
    assert published == [deployment.pk]  # the floors above publish what became ready
    assert not Container.objects.filter(deployment=deployment, ready_at__isnull=True).exists()
    assert Event.objects.filter(kind="container.ready", deployment=deployment).count() >= 2
    # Asked again, nothing is probed or published twice.
    probed.clear()
    published.clear()
    assert reconcile.check_readiness(deployment.pk) == 0
    assert probed == [] and published == []


def test_a_container_that_does_not_answer_yet_stays_unready_until_a_tick_finds_it_answering(
    demo_image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy(demo_image, "heal-not-yet", replicas=1)
    Container.objects.filter(deployment=deployment).update(ready_at=None)
    answering = False
    monkeypatch.setattr(hooks, "readiness", [lambda pk: answering])

    assert reconcile.check_readiness(deployment.pk) == 1
    assert Container.objects.get(deployment=deployment).ready_at is None

    answering = True
    reconcile.converge_all()
    assert Container.objects.get(deployment=deployment).ready_at is not None


def lock_is_free(deployment_id: int) -> bool:
    """Whether another connection could take the deployment's lock now (a session's own advisory locks
    are re-entrant, so it is asked from a thread of its own)."""
    answer: list[bool] = []

    def ask() -> None:
        try:
            with deployment_lock(deployment_id, blocking=False) as acquired:
                answer.append(acquired)
        finally:
            connection.close()

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join()
    return answer == [True]
