"""The converge loop against the real engine: create, scale, adopt, never duplicate, back off."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from conftest import deploy, docker_cli, on_engine
from containers import engine, reconcile
from containers.deployments import scale
from containers.models import Container, Deployment, Event

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_creates_the_desired_replicas_and_mirrors_them_in_rows(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-create", 3, converge=False, container_port=8080)
    outcome = reconcile.converge(deployment.pk)

    assert outcome is not None and len(outcome.created) == 3
    running = on_engine(deployment)
    assert len(running) == 3 and all(c.running for c in running)
    assert {c.id for c in running} == set(
        Container.objects.filter(deployment=deployment).values_list("docker_id", flat=True)
    )
    assert all(c.host_port for c in running)
    deployment.refresh_from_db()
    assert deployment.state == Deployment.State.RUNNING


def test_containers_get_the_limits_and_a_port_on_loopback_only(demo_image: Any) -> None:
    deployment = deploy(
        demo_image,
        "rc-limits",
        1,
        converge=False,
        container_port=8080,
        cpu_limit=Decimal("0.25"),
        memory_limit_bytes=32 * 1024 * 1024,
    )
    reconcile.converge(deployment.pk)

    detail = engine.inspect_container(on_engine(deployment)[0].id)
    assert detail.cpu_limit == 0.25
    assert detail.memory_limit_bytes == 32 * 1024 * 1024
    bindings = detail.ports["8080/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]


def test_a_second_converge_of_a_converged_deployment_does_nothing(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-idempotent", 2, converge=False)
    reconcile.converge(deployment.pk)
    before = {c.id for c in on_engine(deployment)}

    outcome = reconcile.converge(deployment.pk)

    assert outcome is not None and not outcome.created and not outcome.removed
    assert {c.id for c in on_engine(deployment)} == before


def test_scaling_down_removes_the_newest_and_scaling_to_zero_stops(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-scale", 3, converge=False)
    reconcile.converge(deployment.pk)
    oldest = Container.objects.filter(deployment=deployment).order_by("created_at").first()
    assert oldest is not None

    scale(deployment, 1, actor="tests")
    reconcile.converge(deployment.pk)
    assert [c.id for c in on_engine(deployment)] == [oldest.docker_id]

    scale(deployment, 0, actor="tests")
    reconcile.converge(deployment.pk)
    assert on_engine(deployment) == []
    deployment.refresh_from_db()
    assert deployment.state == Deployment.State.STOPPED


def test_a_container_killed_from_outside_is_replaced(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-heal", 2, converge=False)
    reconcile.converge(deployment.pk)
    victim = on_engine(deployment)[0]

    docker_cli("kill", victim.id)
    reconcile.converge(deployment.pk)

    now = on_engine(deployment)
    assert len(now) == 2 and all(c.running for c in now)
    assert victim.id not in {c.id for c in now}
    assert Event.objects.filter(kind="container.died", container_docker_id=victim.id).exists()


def test_containers_that_already_run_are_adopted_not_duplicated(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-adopt", 2, converge=False)
    reconcile.converge(deployment.pk)
    existing = {c.id for c in on_engine(deployment)}
    # A fresh orchestrator knows the desired state but has no rows for what runs.
    Container.objects.filter(deployment=deployment).delete()

    outcome = reconcile.converge(deployment.pk)

    assert outcome is not None and outcome.created == []
    assert {c.id for c in on_engine(deployment)} == existing
    assert set(Container.objects.filter(deployment=deployment).values_list("docker_id", flat=True)) == existing
    assert Event.objects.filter(kind="container.adopted", deployment=deployment).count() == 2


def test_a_container_left_without_its_cpu_limit_is_adopted_with_it(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-unlimited", 1, converge=False)
    # What a worker killed between a container's start and its CPU limit leaves: ours, running, no limit, no row.
    started = engine.run_container(reconcile.container_spec(deployment))
    docker_cli("update", "--cpu-quota", "-1", started.info.id)
    assert engine.inspect_container(started.info.id).cpu_limit is None

    outcome = reconcile.converge(deployment.pk)

    assert outcome is not None and outcome.created == []
    assert engine.inspect_container(started.info.id).cpu_limit == pytest.approx(float(deployment.cpu_limit))
    adopted = Event.objects.get(kind="container.adopted", container_docker_id=started.info.id)
    assert "without a CPU limit" in adopted.message
    # A container that has its limit is adopted as it is, not updated.
    Container.objects.filter(deployment=deployment).delete()
    reconcile.converge(deployment.pk)
    again = Event.objects.filter(kind="container.adopted", container_docker_id=started.info.id).latest("id")
    assert "without a CPU limit" not in again.message


def test_two_reconcilers_at_once_never_start_duplicates(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-race", 4, converge=False)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def reconciler() -> None:
        try:
            barrier.wait()
            reconcile.converge(deployment.pk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reconciler) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(on_engine(deployment)) == 4
    assert Container.objects.filter(deployment=deployment).count() == 4


def test_a_changed_spec_recreates_every_container_in_the_new_generation(demo_image: Any) -> None:
    from containers.deployments import update_deployment

    deployment = deploy(demo_image, "rc-respec", 2, converge=False)
    reconcile.converge(deployment.pk)
    old = {c.id for c in on_engine(deployment)}

    update_deployment(deployment, actor="tests", memory_limit_bytes=24 * 1024 * 1024)
    reconcile.converge(deployment.pk)

    now = on_engine(deployment)
    assert len(now) == 2 and not (old & {c.id for c in now})
    assert {c.generation for c in now} == {2}


def test_a_crash_looping_deployment_backs_off(demo_image: Any, settings: Any) -> None:
    settings.BACKOFF_BASE_S = 30.0
    deployment = deploy(demo_image, "rc-crash", 1, converge=False, command=["sh", "-c", "exit 3"])
    for _ in range(3):
        reconcile.converge(deployment.pk)
        # Let the container die before looking again.
        for info in on_engine(deployment):
            docker_cli("wait", info.id)

    reconcile.converge(deployment.pk)
    deployment.refresh_from_db()

    assert deployment.crash_count >= 2
    assert deployment.state == Deployment.State.BACKOFF
    assert deployment.backoff_until is not None
    assert on_engine(deployment) == []  # dead ones cleared, no new start while backing off
    died = Event.objects.filter(kind="container.died", deployment=deployment).first()
    assert died is not None and "exit code 3" in died.message
    assert Event.objects.filter(kind="deployment.backoff", deployment=deployment).exists()


def test_orphans_of_a_deleted_deployment_are_removed(demo_image: Any) -> None:
    deployment = deploy(demo_image, "rc-orphan", 1, converge=False)
    reconcile.converge(deployment.pk)
    orphan = on_engine(deployment)[0]
    # The row vanishes while its container keeps running (as if deleted while the engine was down).
    Deployment.objects.filter(pk=deployment.pk).delete()

    removed = reconcile.remove_orphans()

    assert orphan.id in removed
    with pytest.raises(engine.ContainerNotFound):
        engine.inspect_container(orphan.id)


def test_a_stopped_engine_is_reported_and_reconcile_resumes_when_it_returns(demo_image: Any, settings: Any) -> None:
    deployment = deploy(demo_image, "rc-engine-down", 1, converge=False)
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    try:
        with pytest.raises(engine.EngineUnavailable):
            reconcile.converge(deployment.pk)
    finally:
        settings.DOCKER_HOST = ""
        engine.reset_client()

    reconcile.converge(deployment.pk)
    assert len(on_engine(deployment)) == 1
