"""``POST /api/images/pull/``: pull from a real registry, with credentials that are never kept or shown.

Tests marked ``registry`` need the registry at ``$TEST_REGISTRY`` (``make test`` starts it); when
nothing answers there on 127.0.0.1 they start one themselves, and they fail, never skip, when they cannot.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from conftest import docker_cli
from containers import engine
from containers.images import pull_failure_words, registry_of
from containers.models import Event, Image
from containers.tests.image_tags import demo_tag, unique_reference, untag
from containers.tests.registries import (
    DEFAULT_REGISTRY,
    Registry,
    bcrypt_hash,
    docker_with_config,
    free_port,
    registry_status,
)

URL = "/api/images/pull/"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The open registry at ``$TEST_REGISTRY``; started here if nothing answers on that loopback address."""
    address = os.environ.get("TEST_REGISTRY") or DEFAULT_REGISTRY
    status = registry_status(address)
    if status == 200:
        yield address
        return
    if status is not None:
        pytest.fail(f"{address} answers GET /v2/ with {status}: not an open registry")
    host, port = address.rsplit(":", 1)
    if host != "127.0.0.1":
        pytest.fail(f"no registry answers at TEST_REGISTRY={address}")
    started = Registry(tmp_path_factory.mktemp("registry"), int(port)).start()
    yield address
    started.stop()


@dataclass(frozen=True)
class PrivateRegistry:
    address: str
    username: str
    password: str


@pytest.fixture(scope="module")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRegistry]:
    """A registry behind htpasswd (bcrypt) on a free loopback port, for this module only."""
    root = tmp_path_factory.mktemp("private-registry")
    username, password = "puller", secrets.token_urlsafe(18)
    htpasswd = root / "htpasswd"
    htpasswd.write_text(f"{username}:{bcrypt_hash(password)}\n")
    started = Registry(root, free_port(), htpasswd=htpasswd).start()
    assert registry_status(started.address) == 401
    yield PrivateRegistry(started.address, username, password)
    started.stop()


def push(reference: str) -> None:
    """Push a local tag, then drop it locally: only the registry has it afterwards."""
    docker_cli("push", reference)


@pytest.mark.registry
def test_it_pulls_an_image_from_the_registry_and_lists_it(
    api_client: APIClient, demo_image: Image, registry: str
) -> None:
    with demo_tag("pull", registry=registry) as reference:
        push(reference)
    with pytest.raises(engine.ImageNotFound):
        engine.inspect_image(reference)
    try:
        response = api_client.post(URL, {"reference": reference}, format="json")

        assert response.status_code == 201, response.json()
        assert response.json()["reference"] == reference
        assert response.json()["source"] == "pull"
        assert engine.inspect_image(reference).id == demo_image.docker_id
        listed = api_client.get("/api/images/", {"reference": reference}).json()["results"]
        assert [item["reference"] for item in listed] == [reference]
        event = Event.objects.get(kind="image.pulled")
        assert event.actor == "alice" and event.after["with_credentials"] is False
    finally:
        untag(reference)


@pytest.mark.registry
def test_a_reference_without_a_tag_pulls_latest(api_client: APIClient, demo_image: Image, registry: str) -> None:
    with demo_tag("untagged", registry=registry, tag="latest") as reference:
        push(reference)
    try:
        response = api_client.post(URL, {"reference": reference.removesuffix(":latest")}, format="json")

        assert response.status_code == 201, response.json()
        assert response.json()["reference"] == reference
        assert Image.objects.filter(reference=reference).exists()
    finally:
        untag(reference)


@pytest.mark.registry
def test_a_repository_the_registry_does_not_have_is_404_naming_reference(
    api_client: APIClient, db: None, engine_ready: None, registry: str
) -> None:
    reference = unique_reference("never-pushed", registry=registry)

    response = api_client.post(URL, {"reference": reference}, format="json")

    assert response.status_code == 404
    assert "reference" in response.json()["fields"]
    assert not Image.objects.exists()
    assert Event.objects.filter(kind="request.refused", actor="alice").exists()


@pytest.mark.registry
def test_a_private_registry_needs_credentials_that_are_never_kept_or_shown(
    api_client: APIClient, demo_image: Image, private_registry: PrivateRegistry, tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    private = private_registry
    config = tmp_path / "docker-config"
    with demo_tag("private", registry=private.address) as reference:
        docker_with_config(
            config, "login", private.address, "-u", private.username, "--password-stdin", stdin=private.password
        )
        docker_with_config(config, "push", reference)
    shutil.rmtree(config)  # the CLI's copy of the credentials
    wrong_password = secrets.token_urlsafe(18)
    try:
        anonymous = api_client.post(URL, {"reference": reference}, format="json")
        wrong = api_client.post(
            URL, {"reference": reference, "username": private.username, "password": wrong_password}, format="json"
        )
        with pytest.raises(engine.ImageNotFound):
            engine.inspect_image(reference)
        right = api_client.post(
            URL, {"reference": reference, "username": private.username, "password": private.password}, format="json"
        )

        assert 400 <= anonymous.status_code < 500 and "reference" in anonymous.json()["fields"]
        assert 400 <= wrong.status_code < 500 and "reference" in wrong.json()["fields"]
        assert right.status_code == 201, right.json()
        assert engine.inspect_image(reference).id == demo_image.docker_id
        assert Event.objects.get(kind="image.pulled").after["with_credentials"] is True
        for secret in (private.password, wrong_password):
            for response in (anonymous, wrong, right):
                assert secret not in response.content.decode()
            for event in Event.objects.all():
                assert secret not in json.dumps([event.kind, event.actor, event.message, event.before, event.after])
            assert secret not in caplog.text
    finally:
        untag(reference)


def test_an_unreachable_registry_is_refused_naming_reference(
    api_client: APIClient, db: None, engine_ready: None
) -> None:
    reference = unique_reference("nowhere", registry=f"127.0.0.1:{free_port()}")

    response = api_client.post(URL, {"reference": reference}, format="json")

    assert response.status_code == 422
    assert "reference" in response.json()["fields"]


@pytest.mark.parametrize(
    "reference",
    ["UPPER CASE!!", "", "   ", "Team/App:1", "app:", "app:bad tag", "-app:1", "app@sha256:" + "a" * 64, "a" * 300],
)
def test_a_malformed_reference_is_400_naming_reference(api_client: APIClient, db: None, reference: str) -> None:
    response = api_client.post(URL, {"reference": reference}, format="json")

    assert response.status_code == 400
    assert "reference" in response.json()["fields"]
    assert not Image.objects.exists()


def test_a_password_without_a_username_is_400(api_client: APIClient, db: None) -> None:
    response = api_client.post(URL, {"reference": "app:1", "password": "secret-xyz"}, format="json")

    assert response.status_code == 400
    assert "username" in response.json()["fields"]
    assert "secret-xyz" not in response.content.decode()


def test_a_missing_reference_is_400(api_client: APIClient, db: None) -> None:
    response = api_client.post(URL, {}, format="json")

    assert response.status_code == 400
    assert "reference" in response.json()["fields"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ('Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', "is not reachable"),
        ("Head https://registry.example/v2/a/manifests/1: no such host", "is not reachable"),
        ("unauthorized: authentication required", "refused access to"),
        ("pull access denied for team/app, repository does not exist", "refused access to"),
        ("manifest for registry.example:5000/a:1 not found: manifest unknown", "was not found in the registry"),
        ("something nobody expected", "failed"),
    ],
)
def test_a_failed_pull_is_put_in_words(raw: str, words: str) -> None:
    assert words in pull_failure_words("registry.example:5000/team/app:1", raw)


def test_the_registry_of_a_reference_is_its_host_part_or_docker_hub() -> None:
    assert registry_of("127.0.0.1:5000/team/app:1") == "127.0.0.1:5000"
    assert registry_of("registry.example/app") == "registry.example"
    assert registry_of("team/app:1") == "docker.io"
    assert registry_of("busybox") == "docker.io"
