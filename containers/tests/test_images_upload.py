"""``POST /api/images/upload/``: a ``docker save`` tar is loaded onto the engine; anything else is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import docker_cli
from containers import engine
from containers.models import Event, Image
from containers.tests.image_tags import demo_tag, untag

URL = "/api/images/upload/"


@pytest.fixture
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploads land here, so a test can see that nothing is left behind."""
    directory = tmp_path / "uploads"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    return directory


def post_file(client: APIClient, path: Path) -> Any:
    with path.open("rb") as fh:
        return client.post(URL, {"file": fh}, format="multipart")


def test_it_loads_a_saved_image_onto_the_engine_and_lists_it(
    api_client: APIClient, demo_image: Image, upload_dir: Path, tmp_path: Path
) -> None:
    with demo_tag("upload") as reference:
        archive = tmp_path / "image.tar"
        docker_cli("save", "-o", str(archive), reference)
    with pytest.raises(engine.ImageNotFound):
        engine.inspect_image(reference)
    try:
        response = post_file(api_client, archive)

        assert response.status_code == 201, response.json()
        assert [item["reference"] for item in response.json()] == [reference]
        assert response.json()[0]["source"] == "upload"
        assert engine.inspect_image(reference).id == demo_image.docker_id
        listed = api_client.get("/api/images/", {"reference": reference}).json()["results"]
        assert [item["reference"] for item in listed] == [reference]
        event = Event.objects.get(kind="image.uploaded")
        assert event.actor == "alice" and reference in event.message
        assert list(upload_dir.iterdir()) == []
    finally:
        untag(reference)


def test_a_file_that_is_not_an_image_is_refused_with_400_naming_file(
    api_client: APIClient, db: None, engine_ready: None, upload_dir: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.tar"
    junk.write_bytes(b"this is not a docker save archive\n" * 100)

    response = post_file(api_client, junk)

    assert response.status_code == 400
    assert "file" in response.json()["fields"]
    assert not Image.objects.exists()
    assert Event.objects.filter(kind="request.refused", actor="alice").exists()
    assert list(upload_dir.iterdir()) == []


def test_a_request_without_a_file_is_refused_with_400_naming_file(api_client: APIClient, db: None) -> None:
    response = api_client.post(URL, {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["fields"]


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(
    api_client: APIClient, db: None, settings: Any, upload_dir: Path, tmp_path: Path
) -> None:
    settings.IMAGE_UPLOAD_MAX_BYTES = 1024
    big = tmp_path / "big.tar"
    big.write_bytes(b"x" * (200 * 1024))  # past the limit plus the multipart allowance: refused by length

    response = post_file(api_client, big)

    assert response.status_code == 413
    assert "file" in response.json()["fields"]
    assert list(upload_dir.iterdir()) == []
    assert Event.objects.filter(kind="request.refused", actor="alice").exists()


def test_a_file_over_the_limit_is_refused_with_413_while_streaming(
    api_client: APIClient, db: None, settings: Any, upload_dir: Path, tmp_path: Path
) -> None:
    settings.IMAGE_UPLOAD_MAX_BYTES = 1024
    big = tmp_path / "big.tar"
    big.write_bytes(b"x" * 4096)  # the request's length passes, the file itself does not

    response = post_file(api_client, big)

    assert response.status_code == 413
    assert "file" in response.json()["fields"]
    assert list(upload_dir.iterdir()) == []
    assert not Image.objects.exists()


def test_json_is_not_accepted(api_client: APIClient, db: None) -> None:
    assert api_client.post(URL, {"file": "x"}, format="json").status_code == 415
