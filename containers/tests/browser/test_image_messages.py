"""The images page in Chromium: re-uploading an image that is already there says so and keeps its origin;
a failed pull says in words what failed first, with the engine's own message folded under it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from conftest import docker_cli
from containers.models import Event, Image

pytestmark = pytest.mark.browser


def test_re_uploading_an_image_says_it_was_already_present_and_keeps_its_origin(
    console: Page, demo_image: Image, tmp_path: Path
) -> None:
    archive = tmp_path / "demo.tar"
    docker_cli("save", "-o", str(archive), settings.DEMO_IMAGE)
    console.goto("/console/images/")
    console.get_by_label("Image archive").set_input_files(archive)
    console.get_by_role("button", name="Upload", exact=True).click()

    note = console.locator("#image-upload [role=status].note")
    short = demo_image.docker_id.removeprefix("sha256:")[:12]
    expect(note).to_have_text(
        f"{settings.DEMO_IMAGE} was already present (same id {short}); nothing changed (its origin stays “build”)."
    )
    demo_image.refresh_from_db()
    assert demo_image.source == "build"
    assert Event.objects.get(kind="image.uploaded").after["already_present"] == [settings.DEMO_IMAGE]


@pytest.mark.parametrize(
    ("reference", "words", "raw"),
    [
        ("127.0.0.1:1/team/app:1", "the registry 127.0.0.1:1 is not reachable", "connection refused"),
        (
            f"{os.environ.get('TEST_REGISTRY', '127.0.0.1:5000')}/orchestrator-test/missing-{uuid.uuid4().hex[:8]}:1",
            "was not found in the registry",
            "in its registry",  # the engine door's own sentence
        ),
    ],
)
def test_a_failed_pull_says_what_failed_in_words_with_the_engine_s_text_as_a_detail(
    console: Page, user: Any, engine_ready: None, reference: str, words: str, raw: str
) -> None:
    # The words and the engine's text are for staff (issue 15: to anyone else the kind of failure
    # would tell which hosts and ports answer); others get one generic sentence (test_pull_policy).
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    console.goto("/console/images/")
    console.get_by_label("Reference").fill(reference)
    console.get_by_role("button", name="Pull", exact=True).click()

    field = console.get_by_label("Reference")
    expect(field).to_have_attribute("aria-invalid", "true")
    error = console.locator("#image-pull small.error")
    expect(error).to_contain_text(words)
    expect(error).not_to_contain_text(raw)  # words first; the engine's text is the detail
    detail = console.locator("#image-pull details.engine-detail")
    expect(detail.locator("summary")).to_have_text("What the engine said")
    expect(detail.locator("pre")).to_contain_text(raw, ignore_case=True)
    assert not Image.objects.filter(reference=reference).exists()
