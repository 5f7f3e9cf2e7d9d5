"""Uploading an image from the images page in Chromium: a real ``docker save`` tar goes up by XHR with a
progress bar, the engine loads it, and the list shows it without a reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import docker_cli
from containers import engine
from containers.models import Event, Image
from containers.tests.browser.pages import look_at
from containers.tests.image_tags import demo_tag, untag

pytestmark = pytest.mark.browser

# Records the bar's value at every progress event (console.js sets it first: its listener came first).
WATCH_PROGRESS = """
window.__progress = [];
document.addEventListener("htmx:xhr:progress", () => {
  const bar = document.querySelector("#image-upload progress");
  window.__progress.push({value: bar.value, hidden: bar.hidden});
});
window.__marker = "not reloaded";
"""


def test_a_saved_image_uploads_with_progress_and_is_listed(console: Page, demo_image: Image, tmp_path: Path) -> None:
    with demo_tag("browser-upload") as reference:
        archive = tmp_path / "image.tar"
        docker_cli("save", "-o", str(archive), reference)
    with pytest.raises(engine.ImageNotFound):  # untagged again: the upload must bring it back
        engine.inspect_image(reference)
    try:
        console.goto("/console/images/")
        expect(console.locator("#image-upload progress")).to_be_hidden()  # there, waiting for an upload
        console.evaluate(WATCH_PROGRESS)

        console.get_by_label("Image archive").set_input_files(archive)
        console.get_by_role("button", name="Upload", exact=True).click()

        expect(console.locator("#image-upload [role=status].note")).to_have_text(f"Uploaded {reference}.")
        row = console.locator("#images tbody tr", has=console.get_by_text(reference, exact=True))
        expect(row).to_have_count(1)  # the list reloaded itself (images-changed)
        progress: list[dict[str, Any]] = console.evaluate("window.__progress")
        assert {"value": 100, "hidden": False} in progress, progress  # the bar showed, and filled
        assert console.evaluate("window.__marker") == "not reloaded"
        assert engine.inspect_image(reference).id == demo_image.docker_id
        assert Event.objects.filter(kind="image.uploaded", actor="alice").exists()
        look_at(console, "images")
    finally:
        untag(reference)
