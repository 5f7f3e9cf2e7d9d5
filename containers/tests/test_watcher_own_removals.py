"""The watcher answers a container's death with a converge, but not the ``destroy`` of a removal the
orchestrator made itself (its converge already ran): real engine, real removals, the watcher's own
decision function fed the engine's events."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from conftest import deploy, docker_cli, wait_for
from containers import engine, reconcile, watcher
from containers.deployments import remove_container
from containers.models import Container, Image

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("remove_test_containers")]


def collect_events(deployment_id: int, stop: threading.Event, into: list[engine.EngineEvent]) -> None:
    for event in engine.events(engine.deployment_labels(deployment_id), watcher.TRIGGERS):
        into.append(event)
        if stop.is_set():
            return


def events_during(deployment_id: int, action: Any, *, until: str, container_id: str) -> list[engine.EngineEvent]:
    """The engine's die/oom/destroy events of one deployment while ``action`` runs, up to ``until`` of
    ``container_id``."""
    seen: list[engine.EngineEvent] = []
    stop = threading.Event()
    thread = threading.Thread(target=collect_events, args=(deployment_id, stop, seen), daemon=True)
    thread.start()
    time.sleep(0.3)  # the stream is open
    action()
    wait_for(
        lambda: any(e.action == until and e.container_id == container_id for e in seen),
        timeout=15,
        what=f"the engine's {until} event",
    )
    stop.set()
    return seen


def test_the_events_of_a_removal_by_the_orchestrator_queue_no_converge(demo_image: Image) -> None:
    deployment = deploy(demo_image, "watch-own", 2)
    victim = Container.objects.filter(deployment=deployment).first()
    assert victim is not None

    seen = events_during(
        deployment.pk,
        lambda: remove_container(victim, actor="tests"),
        until="destroy",
        container_id=victim.docker_id,
    )

    [destroy] = [e for e in seen if e.action == "destroy" and e.container_id == victim.docker_id]
    assert watcher.ours(destroy)
    assert watcher.handle(destroy) is None


def test_a_surplus_removed_by_a_converge_is_ours_too(demo_image: Image) -> None:
    deployment = deploy(demo_image, "watch-surplus", 2)
    newest = Container.objects.filter(deployment=deployment).order_by("-created_at", "-pk").first()
    assert newest is not None
    deployment.replicas = 1
    deployment.save(update_fields=["replicas"])

    seen = events_during(
        deployment.pk,
        lambda: reconcile.converge(deployment.pk),
        until="destroy",
        container_id=newest.docker_id,
    )

    [destroy] = [e for e in seen if e.action == "destroy"]
    assert destroy.container_id == newest.docker_id
    assert watcher.ours(destroy)


def test_a_container_killed_or_removed_from_outside_is_converged(demo_image: Image) -> None:
    deployment = deploy(demo_image, "watch-outside", 2)
    killed, removed = Container.objects.filter(deployment=deployment).order_by("pk")

    seen = events_during(
        deployment.pk,
        lambda: (docker_cli("kill", killed.docker_id), docker_cli("rm", "-f", removed.docker_id)),
        until="destroy",
        container_id=removed.docker_id,
    )

    die = next(e for e in seen if e.action == "die" and e.container_id == killed.docker_id)
    destroy = next(e for e in seen if e.action == "destroy" and e.container_id == removed.docker_id)
    assert not watcher.ours(die)
    assert not watcher.ours(destroy)


def test_a_death_is_converged_by_the_watcher_itself_without_a_worker(demo_image: Image, settings: Any) -> None:
    settings.WATCHER_CONVERGE_THREADS = 2
    deployment = deploy(demo_image, "watch-heal", 2)
    victim = Container.objects.filter(deployment=deployment).first()
    assert victim is not None
    seen = events_during(
        deployment.pk, lambda: docker_cli("kill", victim.docker_id), until="die", container_id=victim.docker_id
    )
    die = next(e for e in seen if e.action == "die" and e.container_id == victim.docker_id)

    # No worker runs in this test: only a converge in the watcher's own thread can replace it.
    assert watcher.handle(die) == deployment.pk

    def healed() -> bool:
        rows = Container.objects.filter(deployment=deployment, status="running")
        return rows.count() == 2 and not rows.filter(docker_id=victim.docker_id).exists()

    wait_for(healed, timeout=30, what="the watcher's converge to replace the killed container")
    assert len([c for c in engine.list_containers(engine.deployment_labels(deployment.pk)) if c.running]) == 2
