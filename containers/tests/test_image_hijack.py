"""An upload cannot hijack a deployment's image: an archive whose tags already name another image is
refused (an administrator may replace on purpose, which is an event), and containers run the image
id their generation pinned, so a tag that moves changes nothing until the deployment is rolled out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from conftest import deploy, docker_cli, on_engine
from containers import deployments, engine, reconcile
from containers.models import Deployment, Event, Image
from containers.tests.image_tags import unique_reference, untag
from tenancy.models import default_organization

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]

URL = "/api/images/upload/"


@dataclass
class Hijack:
    reference: str  # the tag a deployment uses, naming the original image
    original_id: str
    other_id: str  # another image
    archive: Path  # a docker save of the other image, carrying the tag ``reference``


@pytest.fixture
def hijack(demo_image: Image, tmp_path: Path) -> Iterator[Hijack]:
    reference = unique_reference("victim")
    other = unique_reference("intruder")
    docker_cli("tag", demo_image.reference, reference)
    (tmp_path / "Dockerfile").write_text(f"FROM {demo_image.reference}\nLABEL orchestrator.test=intruder\n")
    docker_cli("build", "-q", "-t", other, str(tmp_path))
    original_id, other_id = engine.inspect_image(reference).id, engine.inspect_image(other).id
    # An archive that carries the victim's tag on the other image (made by hand, then the tag put back).
    archive = tmp_path / "intruder.tar"
    docker_cli("tag", other, reference)
    docker_cli("save", "-o", str(archive), reference)
    docker_cli("tag", original_id, reference)
    # Found on the engine, so the default organization's (the one the test's users act in), not shared.
    Image.objects.create(
        reference=reference, docker_id=original_id, source=Image.Source.ENGINE, organization=default_organization()
    )
    yield Hijack(reference, original_id, other_id, archive)
    untag(reference)
    untag(other)


def upload(client: APIClient, archive: Path, **extra: Any) -> Any:
    with archive.open("rb") as fh:
        return client.post(URL, {"file": fh, **extra}, format="multipart")


def running_image(deployment: Deployment) -> set[str]:
    return {info.image_id for info in on_engine(deployment) if info.running}


@pytest.fixture
def staff_client(db: None) -> APIClient:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    client = APIClient()
    client.force_authenticate(admin)
    return client


def test_an_upload_that_would_move_a_tag_to_another_image_is_refused(api_client: APIClient, hijack: Hijack) -> None:
    victim = deploy(Image.objects.get(reference=hijack.reference), "hijack-victim")

    response = upload(api_client, hijack.archive)

    assert response.status_code == 409, response.json()
    assert "file" in response.json()["fields"] and hijack.reference in response.json()["error"]
    assert engine.inspect_image(hijack.reference).id == hijack.original_id
    assert not Event.objects.filter(kind="image.uploaded").exists()
    assert Event.objects.filter(kind="request.refused", message__contains="would move tags").exists()
    assert running_image(victim) == {hijack.original_id}


def test_only_an_administrator_may_replace_a_tag(api_client: APIClient, hijack: Hijack) -> None:
    response = upload(api_client, hijack.archive, replace="true")

    assert response.status_code == 403 and "replace" in response.json()["fields"]
    assert engine.inspect_image(hijack.reference).id == hijack.original_id


def test_a_replace_is_an_event_and_running_deployments_keep_their_pinned_image_until_rolled_out(
    staff_client: APIClient, hijack: Hijack
) -> None:
    victim = deploy(Image.objects.get(reference=hijack.reference), "hijack-pinned")
    victim.refresh_from_db()
    assert victim.image_docker_id == hijack.original_id

    response = upload(staff_client, hijack.archive, replace="true")

    assert response.status_code == 201, response.json()
    assert engine.inspect_image(hijack.reference).id == hijack.other_id
    replaced = Event.objects.get(kind="image.replaced")
    assert replaced.before["docker_id"] == hijack.original_id and replaced.after["docker_id"] == hijack.other_id
    assert replaced.after["deployments"] == ["hijack-pinned"]
    # A replacement container of the same generation still runs the pinned image.
    (container,) = on_engine(victim)
    engine.remove_container(container.id)
    reconcile.converge(victim.pk)
    assert running_image(victim) == {hijack.original_id}

    rolled = staff_client.post(f"/api/deployments/{victim.pk}/rollout/?wait=true")

    assert rolled.status_code == 200 and rolled.json()["image_docker_id"] == hijack.other_id
    assert running_image(victim) == {hijack.other_id}


def test_a_tag_moved_on_the_engine_by_hand_changes_nothing_until_a_rollout(hijack: Hijack) -> None:
    victim = deploy(Image.objects.get(reference=hijack.reference), "hijack-byhand")
    docker_cli("tag", hijack.other_id, hijack.reference)

    deployments.scale(victim, 3, actor="tests")
    reconcile.converge(victim.pk)

    assert running_image(victim) == {hijack.original_id}
    assert len(on_engine(victim)) == 3


def test_uploading_the_same_image_again_is_fine(api_client: APIClient, demo_image: Image, tmp_path: Path) -> None:
    reference = unique_reference("again")
    docker_cli("tag", demo_image.reference, reference)
    archive = tmp_path / "again.tar"
    docker_cli("save", "-o", str(archive), reference)
    try:
        response = upload(api_client, archive)
    finally:
        untag(reference)

    assert response.status_code == 201, response.json()
