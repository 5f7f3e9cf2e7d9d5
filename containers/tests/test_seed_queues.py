"""A seed start or stop converges before it answers, so it queues no converge of its own."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from rest_framework.test import APIClient

from containers.models import Image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]

SMALL = {"cpu_limit": "0.01", "memory_limit": "8m"}
Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def queued_converges(callbacks: list[Callable[[], Any]]) -> list[Callable[[], Any]]:
    return [cb for cb in callbacks if "converge_deployment" in repr(cb)]


def test_a_start_converges_inline_and_queues_nothing(
    api_client: APIClient, demo_image: Image, django_capture_on_commit_callbacks: Capture
) -> None:
    ref = demo_image.reference
    with django_capture_on_commit_callbacks() as first:
        response = api_client.post(f"/containers/{ref}/start", {"count": 1, "resources": SMALL}, format="json")
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks() as second:
        response = api_client.post(f"/containers/{ref}/start", {"count": 1, "resources": SMALL}, format="json")
    assert response.status_code == 201, response.content
    with django_capture_on_commit_callbacks() as stop:
        response = api_client.post(f"/containers/{ref}/stop", {}, format="json")
    assert response.status_code == 200, response.content

    assert queued_converges(first) == queued_converges(second) == queued_converges(stop) == []
