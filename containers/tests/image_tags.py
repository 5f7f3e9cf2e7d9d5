"""Test images: tags of the demo image under ``orchestrator-test/``, removed again by the test that made them."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from conftest import TEST_IMAGE_PREFIX, docker_cli


def unique_reference(name: str, tag: str = "1", registry: str = "") -> str:
    """``[registry/]orchestrator-test/<name>-<random>:<tag>``, unique to this call."""
    prefix = f"{registry}/" if registry else ""
    return f"{prefix}{TEST_IMAGE_PREFIX}{name}-{uuid.uuid4().hex[:8]}:{tag}"


def untag(reference: str) -> None:
    """Remove a tag if it is still there (a test may have removed it already)."""
    subprocess.run(["docker", "rmi", reference], capture_output=True, timeout=60)


@contextmanager
def demo_tag(name: str, registry: str = "", tag: str = "1") -> Iterator[str]:
    """Tag the demo image under a fresh ``orchestrator-test/`` reference for the duration of a test."""
    reference = unique_reference(name, tag, registry)
    docker_cli("tag", settings.DEMO_IMAGE, reference)
    try:
        yield reference
    finally:
        untag(reference)
