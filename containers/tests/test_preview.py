"""``containers.preview``: what reconcile would do, read from the real engine, and that reconcile then
does exactly that. Nothing a preview looks at is changed, and a refusal it predicts is not recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import docker_cli, wait_for
from containers import deployments, engine, reconcile
from containers.models import Container, Deployment, Event, Image
from containers.preview import preview_create, preview_scale, preview_update

pytestmark = pytest.mark.django_db

SMALL = {"cpu_limit": Decimal("0.05"), "memory_limit_bytes": 16 * 1024**2}


@pytest.fixture(autouse=True)
def _remove_this_run_s_containers() -> Iterator[None]:
    """The database rolls back after each test but the engine does not: remove what the test started."""
    yield
    for info in engine.list_containers(engine.instance_labels()):
        engine.remove_container(info.id)


def running(image: Image, name: str, replicas: int) -> Deployment:
    deployment = deployments.create_deployment(actor="tests", name=name, image=image, replicas=replicas, **SMALL)
    reconcile.converge(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def names_on_engine(deployment: Deployment) -> set[str]:
    return {c.name for c in engine.list_containers(engine.deployment_labels(deployment.pk))}


def oldest_first(deployment: Deployment) -> list[str]:
    return list(deployment.containers.order_by("created_at", "docker_id").values_list("name", flat=True))


def test_a_new_deployment_creates_every_replica(demo_image: Image) -> None:
    preview = preview_create({"name": "pv-new", "image": demo_image, "replicas": 2, **SMALL})

    assert (preview.create, preview.generation, preview.remove, preview.refusal) == (2, 1, (), "")
    assert not Deployment.objects.exists() and not Event.objects.exists()


def test_a_scale_down_names_the_newest_containers_and_reconcile_removes_exactly_those(demo_image: Image) -> None:
    deployment = running(demo_image, "pv-down", 3)
    oldest, *newer = oldest_first(deployment)

    preview = preview_scale(deployment, 1)

    assert preview.create == 0
    assert sorted((r.name, r.reason) for r in preview.remove) == sorted((name, "surplus") for name in newer)
    assert preview.keep == (oldest,)
    assert Deployment.objects.get(pk=deployment.pk).replicas == 3  # only a preview

    deployments.scale(deployment, 1, actor="tests")
    reconcile.converge(deployment.pk)
    assert names_on_engine(deployment) == {oldest}


def test_a_memory_change_recreates_every_container_in_a_new_generation(demo_image: Image) -> None:
    deployment = running(demo_image, "pv-mem", 2)
    before = names_on_engine(deployment)

    preview = preview_update(deployment, {"memory_limit_bytes": 24 * 1024**2, "replicas": 2})

    assert preview.recreate and preview.changed == ("memory limit",)
    assert (preview.create, preview.generation) == (2, 2)
    assert {(r.name, r.reason, r.generation) for r in preview.remove} == {(n, "outdated", 1) for n in before}
    assert deployment.memory_limit_bytes == 16 * 1024**2 and deployment.generation == 1  # the instance is untouched
    deployment.refresh_from_db()
    assert deployment.generation == 1


def test_a_change_outside_the_spec_keeps_the_containers(demo_image: Image) -> None:
    deployment = running(demo_image, "pv-same", 1)

    preview = preview_update(deployment, {"replicas": 2, "memory_limit_bytes": deployment.memory_limit_bytes})

    assert not preview.recreate and preview.changed == ()
    assert (preview.create, preview.remove, preview.generation) == (1, (), 1)


def test_a_container_killed_outside_is_replaced(demo_image: Image) -> None:
    deployment = running(demo_image, "pv-killed", 2)
    victim = Container.objects.filter(deployment=deployment).first()
    docker_cli("kill", victim.docker_id)
    wait_for(lambda: engine.inspect_container(victim.docker_id).info.state == "exited", what="the kill")

    preview = preview_scale(deployment, 2)

    assert [(r.name, r.reason) for r in preview.remove] == [(victim.name, "exited")]
    assert preview.create == 1


def test_a_crash_loop_backoff_holds_back_a_scale_up_but_not_an_edit(demo_image: Image) -> None:
    deployment = deployments.create_deployment(actor="tests", name="pv-backoff", image=demo_image, replicas=0, **SMALL)
    deployment.backoff_until = timezone.now() + timedelta(seconds=60)
    deployment.save()

    scaled = preview_scale(deployment, 2)
    edited = preview_update(deployment, {"replicas": 2})

    assert (scaled.create, scaled.held, scaled.waits_until) == (0, 2, deployment.backoff_until)
    assert (edited.create, edited.held, edited.waits_until) == (2, 0, None)


def test_a_refusal_is_predicted_without_being_recorded(demo_image: Image, settings: Any) -> None:
    deployment = running(demo_image, "pv-full", 1)
    events = Event.objects.count()
    settings.MAX_REPLICAS = 4

    too_many = preview_scale(deployment, 5)
    too_big = preview_update(deployment, {"memory_limit_bytes": 1024**4})
    down = preview_scale(deployment, 0)

    assert too_many.refusal == "replicas must be between 0 and 4" and too_many.refusal_field == "replicas"
    assert too_big.refusal.startswith("not enough host resources: memory")
    assert down.refusal == ""
    assert Event.objects.count() == events


def test_the_detail_page_previews_a_scale_down_by_name(client: Client, user: Any, demo_image: Image) -> None:
    client.force_login(user)
    deployment = running(demo_image, "pv-page", 2)
    oldest, newest = oldest_first(deployment)

    response = client.post(
        f"/deployments/{deployment.pk}/scale/preview/",
        {"replicas": "1"},
        headers={"HX-Request": "true", "HX-Target": "deployment-scale"},
    )

    words = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))
    assert f"remove {newest} — surplus (scaled down)" in words
    assert f"keep {oldest}" in words
    assert Deployment.objects.get(pk=deployment.pk).replicas == 2
