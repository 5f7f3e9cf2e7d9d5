"""The orchestrator's real processes: a Celery worker and the engine watcher, run as subprocesses.

These prove the event path (kill -> `die` event -> watcher -> task -> worker -> replacement)
and that restarting the processes adopts what runs instead of starting more.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Process, deploy, docker_cli, wait_for
from containers import engine
from containers.deployments import scale
from containers.models import Container, Deployment, Event

pytestmark = pytest.mark.django_db(transaction=True)


def running(deployment: Deployment) -> set[str]:
    return {c.id for c in engine.list_containers(engine.deployment_labels(deployment.pk)) if c.running}


def all_on_engine(deployment: Deployment) -> list[engine.ContainerInfo]:
    return engine.list_containers(engine.deployment_labels(deployment.pk))


def describe(processes: dict[str, Process]) -> str:
    return "\n".join(f"--- {name}\n{proc.log_tail()}" for name, proc in processes.items())


def test_a_change_of_desired_state_is_converged_by_the_worker(
    demo_image: Any, orchestrator_processes: dict[str, Process]
) -> None:
    deployment = deploy(demo_image, "proc-queue", 2, converge=False)  # queues a converge task on commit

    wait_for(
        lambda: len(running(deployment)) == 2,
        timeout=30,
        what=lambda: f"the worker to start 2 containers\n{describe(orchestrator_processes)}",
    )
    scale(deployment, 3, actor="tests")
    wait_for(lambda: len(running(deployment)) == 3, timeout=30, what="the worker to scale to 3")


def test_a_killed_container_is_replaced_through_the_watcher(
    demo_image: Any, orchestrator_processes: dict[str, Process]
) -> None:
    deployment = deploy(demo_image, "proc-heal", 2, converge=False)
    wait_for(
        lambda: len(running(deployment)) == 2,
        timeout=30,
        what=lambda: f"2 containers\n{describe(orchestrator_processes)}",
    )
    victim = sorted(running(deployment))[0]

    docker_cli("kill", victim)

    wait_for(
        lambda: len(running(deployment)) == 2 and victim not in running(deployment),
        timeout=20,
        what=lambda: f"the killed container to be replaced\n{describe(orchestrator_processes)}",
    )
    assert len(all_on_engine(deployment)) == 2, "the dead container was removed, nothing else added"


def test_restarting_the_processes_adopts_what_runs_without_duplicates(
    demo_image: Any, orchestrator_processes: dict[str, Process]
) -> None:
    deployment = deploy(demo_image, "proc-adopt", 3, converge=False)
    # The converge writes its rows after the engine runs the containers: wait for both, so the rows
    # deleted below are not written again by the converge still finishing.
    wait_for(
        lambda: len(running(deployment)) == 3 and Container.objects.filter(deployment=deployment).count() == 3,
        timeout=30,
        what=lambda: f"3 containers\n{describe(orchestrator_processes)}",
    )
    before = running(deployment)
    # Forget the mirror too, so the restarted processes must find the containers on the engine.
    Container.objects.filter(deployment=deployment).delete()

    for proc in orchestrator_processes.values():
        proc.restart()

    # The restarted watcher queues a full reconcile as soon as it connects.
    wait_for(
        lambda: Event.objects.filter(kind="container.adopted", deployment=deployment).count() == 3,
        timeout=30,
        what=lambda: f"the restarted worker to adopt 3 containers\n{describe(orchestrator_processes)}",
    )
    assert running(deployment) == before
    assert len(all_on_engine(deployment)) == 3
    assert set(Container.objects.filter(deployment=deployment).values_list("docker_id", flat=True)) == before
