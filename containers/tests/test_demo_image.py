"""The demo image: a static busybox serving, as an unprivileged user, a page that names its container."""

from __future__ import annotations

import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import docker_cli, wait_for
from containers import engine, reconcile
from containers.demo_image import (
    DEMO_REVISION_LABEL,
    DemoImageUnavailable,
    check_busybox,
    demo_revision,
    ensure_demo_image,
)
from containers.deployments import create_deployment
from containers.models import Event, Image
from containers.tests.image_tags import unique_reference, untag

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_container_of_it_serves_a_page_naming_the_container_as_an_unprivileged_user(demo_image: Image) -> None:
    deployment = create_deployment(
        actor="tests",
        name="demo-page",
        image=demo_image,
        replicas=1,
        cpu_limit=Decimal("0.1"),
        memory_limit_bytes=16 * 1024 * 1024,
        container_port=8080,
    )
    reconcile.converge(deployment.pk)
    info = engine.list_containers(engine.deployment_labels(deployment.pk))[0]
    detail = engine.inspect_container(info.id)

    def page() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{detail.info.host_port}/", timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            return ""

    body = wait_for(page, timeout=10, what="the demo page")
    hostname = docker_cli("exec", info.id, "hostname")
    assert f"Hello from {hostname}" in body
    assert docker_cli("exec", info.id, "id", "-u") == "65534"


def test_it_is_built_when_the_engine_lacks_it_and_only_then(engine_ready: None, db: None, settings: Any) -> None:
    settings.DEMO_IMAGE = unique_reference("demo-build")
    try:
        first = ensure_demo_image(actor="tests")
        second = ensure_demo_image(actor="tests")

        assert engine.inspect_image(settings.DEMO_IMAGE).id == first.docker_id
        assert first.pk == second.pk and first.source == "build"
        assert Image.objects.filter(reference=settings.DEMO_IMAGE).count() == 1
        built = Event.objects.get(kind="image.built")
        assert built.actor == "tests" and settings.DEMO_IMAGE in built.message
    finally:
        untag(settings.DEMO_IMAGE)


def test_a_dynamically_linked_busybox_is_refused_naming_the_package(tmp_path: Path) -> None:
    with pytest.raises(DemoImageUnavailable, match="busybox-static"):
        check_busybox(Path("/bin/ls"))  # dynamically linked, like Debian's plain busybox package
    with pytest.raises(DemoImageUnavailable, match="busybox-static"):
        check_busybox(tmp_path / "missing")


def test_the_static_busybox_of_this_machine_is_accepted() -> None:
    check_busybox()


def test_a_build_of_an_older_recipe_is_rebuilt(demo_image: Image, tmp_path: Path, settings: Any) -> None:
    current = settings.DEMO_IMAGE
    settings.DEMO_IMAGE = unique_reference("demo-stale")
    # The demo image as an older recipe built it: same reference, another revision label.
    (tmp_path / "Dockerfile").write_text(f"FROM {current}\nLABEL {DEMO_REVISION_LABEL}=older\n")
    stale = engine.build_image(tmp_path, settings.DEMO_IMAGE)
    try:
        assert stale.labels[DEMO_REVISION_LABEL] == "older"
        image = ensure_demo_image(actor="tests")

        rebuilt = engine.inspect_image(settings.DEMO_IMAGE)
        assert rebuilt.id == image.docker_id != stale.id
        assert rebuilt.labels[DEMO_REVISION_LABEL] == demo_revision()
        assert Event.objects.filter(kind="image.built", message__contains=settings.DEMO_IMAGE).exists()
    finally:
        untag(settings.DEMO_IMAGE)
