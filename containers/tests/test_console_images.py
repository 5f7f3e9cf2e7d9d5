"""The console's images page ``/console/images/``: the list (synced from the engine, with "used by"), the
upload and pull forms with their errors at the field, and delete after a confirmation, refused while in use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import docker_cli
from containers import engine
from containers.models import Deployment, Event, Image
from containers.tests.image_tags import demo_tag, unique_reference, untag
from containers.tests.test_images_pull import push, registry  # noqa: F401  (registry is a fixture)
from tenancy.models import default_organization

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PAGE = "/console/images/"


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploads land here, so a test can see that nothing is left behind."""
    directory = tmp_path / "uploads"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    return directory


def deployment_of(image: Image, name: str) -> Deployment:
    return Deployment.objects.create(name=name, image=image, replicas=0, memory_limit_bytes=16 * 1024**2)


def saved_archive(reference: str, tmp_path: Path) -> Path:
    """``docker save`` of a fresh tag, which is then removed from the engine: only the archive has it."""
    archive = tmp_path / "image.tar"
    docker_cli("save", "-o", str(archive), reference)
    return archive


def upload(client: Client, path: Path, headers: dict[str, str] | None = None) -> Any:
    with path.open("rb") as fh:
        return client.post("/console/images/upload/", {"file": fh}, headers=headers)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", PAGE),
        ("get", "/console/images/partials/list/"),
        ("post", "/console/images/upload/"),
        ("post", "/console/images/pull/"),
        ("get", "/console/images/1/delete/"),
        ("post", "/console/images/1/delete/"),
    ],
)
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_lists_the_engine_s_images_with_the_deployments_using_them(alice: Client, demo_image: Image) -> None:
    web = deployment_of(demo_image, "img-web")

    response = alice.get(PAGE)

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<code class="ref" title="{demo_image.docker_id}">{demo_image.reference}</code>' in body
    assert f'<a href="/deployments/{web.pk}/">img-web</a>' in body
    assert 'hx-encoding="multipart/form-data"' in body and "<progress" in body
    assert 'hx-post="/console/images/pull/"' in body and "Pulling" in body
    # The demo image is shared by every organization: only staff may delete it.
    assert f'href="/console/images/{demo_image.pk}/delete/"' not in body and ">shared<" in body


def test_an_image_loaded_by_hand_shows_up(alice: Client, demo_image: Image) -> None:
    with demo_tag("by-hand") as reference:
        body = alice.get(PAGE).content.decode()

    assert reference in body


def test_the_list_partial_answers_htmx_only(alice: Client, demo_image: Image) -> None:
    partial = alice.get("/console/images/partials/list/", headers=HTMX)
    direct = alice.get("/console/images/partials/list/")

    assert partial.status_code == 200 and demo_image.reference in partial.content.decode()
    assert "<html" not in partial.content.decode()
    assert direct.status_code == 302 and direct["Location"] == PAGE


def test_an_uploaded_archive_is_loaded_and_listed(
    alice: Client, demo_image: Image, upload_dir: Path, tmp_path: Path
) -> None:
    with demo_tag("console-upload") as reference:
        archive = saved_archive(reference, tmp_path)
    try:
        response = upload(alice, archive, headers=HTMX)

        assert response.status_code == 200, response.content.decode()
        assert f"Uploaded {reference}." in response.content.decode()
        assert "images-changed" in json.loads(response["HX-Trigger"])  # the list reloads itself
        assert engine.inspect_image(reference).id == demo_image.docker_id
        assert Image.objects.get(reference=reference).source == Image.Source.UPLOAD
        assert reference in alice.get(PAGE).content.decode()
        assert Event.objects.get(kind="image.uploaded").actor == "alice"
        assert list(upload_dir.iterdir()) == []
    finally:
        untag(reference)


def test_an_upload_without_javascript_redirects_back_with_a_message(
    alice: Client, demo_image: Image, upload_dir: Path, tmp_path: Path
) -> None:
    with demo_tag("console-plain") as reference:
        archive = saved_archive(reference, tmp_path)
    try:
        response = upload(alice, archive)

        assert response.status_code == 302 and response["Location"] == PAGE
        assert f"Uploaded {reference}." in alice.get(PAGE).content.decode()
    finally:
        untag(reference)


def test_a_file_that_is_not_an_image_is_an_error_at_the_field_and_adds_nothing(
    alice: Client, demo_image: Image, upload_dir: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.tar"
    junk.write_bytes(b"this is not a docker save archive\n" * 100)
    images_before = set(Image.objects.values_list("reference", flat=True))

    response = upload(alice, junk, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_file_helptext" role="alert">not a docker image archive' in body
    assert 'aria-invalid="true"' in body
    assert set(Image.objects.values_list("reference", flat=True)) == images_before
    assert not Event.objects.filter(kind="image.uploaded").exists()
    assert list(upload_dir.iterdir()) == []


def test_a_file_over_the_limit_is_an_error_at_the_field(
    alice: Client, db: None, settings: Any, upload_dir: Path, tmp_path: Path
) -> None:
    settings.IMAGE_UPLOAD_MAX_BYTES = 1024
    big = tmp_path / "big.tar"
    big.write_bytes(b"x" * 4096)

    response = upload(alice, big, headers=HTMX)

    assert response.status_code == 413
    assert "larger than the upload limit of 1024 bytes" in response.content.decode()
    assert list(upload_dir.iterdir()) == []


def test_a_post_without_a_file_shows_the_page_again_with_the_error(alice: Client, demo_image: Image) -> None:
    response = alice.post("/console/images/upload/", {})

    assert response.status_code == 422
    assert "<h1>Images</h1>" in response.content.decode()
    assert "This field is required." in response.content.decode()


def test_the_upload_checks_the_csrf_token(user: Any, db: None, tmp_path: Path) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    junk = tmp_path / "x.tar"
    junk.write_bytes(b"x")

    assert upload(client, junk).status_code == 403
    assert client.post("/console/images/pull/", {"reference": "a:1"}).status_code == 403


@pytest.mark.registry
def test_it_pulls_from_the_registry_and_lists_the_image(alice: Client, demo_image: Image, registry: str) -> None:  # noqa: F811
    with demo_tag("console-pull", registry=registry) as reference:
        push(reference)
    try:
        response = alice.post("/console/images/pull/", {"reference": reference}, headers=HTMX)

        assert response.status_code == 200, response.content.decode()
        assert f"Pulled {reference}." in response.content.decode()
        assert "images-changed" in json.loads(response["HX-Trigger"])
        assert engine.inspect_image(reference).id == demo_image.docker_id
        assert reference in alice.get(PAGE).content.decode()
    finally:
        untag(reference)


@pytest.mark.registry
def test_an_unknown_repository_is_an_error_at_the_reference(alice: Client, db: None, registry: str) -> None:  # noqa: F811
    reference = unique_reference("never-pushed", registry=registry)

    response = alice.post("/console/images/pull/", {"reference": reference}, headers=HTMX)

    assert response.status_code == 422
    assert f'id="id_reference_helptext" role="alert">{reference} was not found' in response.content.decode()


def test_a_bad_reference_is_an_error_at_the_field_and_the_password_is_not_shown_again(alice: Client, db: None) -> None:
    secret = "s3cret-Pa55word-xyz"

    response = alice.post(
        "/console/images/pull/", {"reference": "Not A Reference", "username": "bob", "password": secret}
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_reference_helptext" role="alert">&#x27;Not A Reference&#x27; is not a valid image reference' in body
    assert 'value="bob"' in body
    assert secret not in body
    assert not Event.objects.filter(message__contains=secret).exists()


def test_a_password_without_a_username_is_an_error_at_the_username(alice: Client, db: None) -> None:
    response = alice.post("/console/images/pull/", {"reference": "a/b:1", "password": "x"}, headers=HTMX)

    assert response.status_code == 422
    assert 'id="id_username_helptext" role="alert">a password needs a username' in response.content.decode()


def test_delete_asks_for_confirmation_then_removes_the_image(alice: Client, demo_image: Image) -> None:
    with demo_tag("console-delete") as reference:
        alice.get(PAGE)  # syncs the new tag into a row
        image = Image.objects.get(reference=reference)

        confirm = alice.get(f"/console/images/{image.pk}/delete/")

        assert confirm.status_code == 200
        assert "Delete image</button>" in confirm.content.decode()
        assert engine.inspect_image(reference)  # asking removes nothing

        response = alice.post(f"/console/images/{image.pk}/delete/")

        assert response.status_code == 302 and response["Location"] == PAGE
        with pytest.raises(engine.ImageNotFound):
            engine.inspect_image(reference)
        assert not Image.objects.filter(pk=image.pk).exists()
        assert Event.objects.get(kind="image.deleted").actor == "alice"


def test_delete_is_refused_while_a_deployment_uses_the_image_and_says_which(alice: Client, demo_image: Image) -> None:
    demo_image.organization = default_organization()  # the organization's own image: shared ones are staff's
    demo_image.save()
    deployment_of(demo_image, "img-user")

    confirm = alice.get(f"/console/images/{demo_image.pk}/delete/")
    response = alice.post(f"/console/images/{demo_image.pk}/delete/")

    assert "Delete image</button>" not in confirm.content.decode()
    assert "img-user" in confirm.content.decode()
    assert response.status_code == 409
    assert "is used by deployment(s) img-user" in response.content.decode()
    assert engine.inspect_image(demo_image.reference)
    assert Image.objects.filter(pk=demo_image.pk).exists()


def test_the_list_takes_as_many_queries_for_50_images_as_for_2(alice: Client, demo_image: Image) -> None:
    def rows(count: int, prefix: str) -> None:
        # Rows a deployment uses stay, though the engine lacks them; the list shows them all.
        for i in range(count):
            image = Image.objects.create(reference=f"orchestrator-test/{prefix}-{i}:1")
            deployment_of(image, f"{prefix}-{i}")

    def queries() -> int:
        alice.get(PAGE)  # let the engine sync settle first, so both counts measure the same work
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(PAGE).status_code == 200
        return len(captured)

    rows(2, "few")
    few = queries()
    rows(48, "many")
    many = queries()

    assert many == few


def test_wrong_methods_are_refused(alice: Client) -> None:
    assert alice.post(PAGE).status_code == 405
    assert alice.get("/console/images/upload/").status_code == 405
    assert alice.get("/console/images/pull/").status_code == 405
