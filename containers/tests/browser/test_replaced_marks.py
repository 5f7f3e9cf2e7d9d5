"""A container that died and was replaced stays visible for a while on its deployment's page: "replaced
3 s ago, exit 137" under the containers table, instead of a name silently swapped for another."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from conftest import SMALL_CPU, SMALL_MEMORY
from containers.models import Container, Deployment, Image, record

pytestmark = pytest.mark.browser

REPLACED = re.compile(r"replaced \d+ s ago, exit 137")


def test_a_replaced_container_is_marked_with_when_and_its_exit_code(
    console: Page, engine_ready: None, transactional_db: Any
) -> None:
    image = Image.objects.create(reference="orchestrator-test/replaced:1")
    deployment = Deployment.objects.create(
        name="healed", image=image, replicas=1, cpu_limit=SMALL_CPU, memory_limit_bytes=SMALL_MEMORY
    )
    Container.objects.create(deployment=deployment, docker_id=uuid.uuid4().hex * 2, name="healed-new", status="running")
    dead = uuid.uuid4().hex * 2  # its row is gone: reconcile replaced it
    record(
        "container.died",
        actor="reconciler",
        deployment=deployment,
        container_docker_id=dead,
        message="healed-old died (exit code 137) after 42.0s",
        after={"exit_code": 137, "oom_killed": False, "lived_s": 42.0},
    )

    console.goto(f"/deployments/{deployment.pk}/")
    marks = console.get_by_role("list", name="Replaced containers")
    expect(marks).to_contain_text(dead[:12])
    expect(marks).to_contain_text(REPLACED)
    # The mark refreshes with the section (every 2 s) and keeps counting.
    with console.expect_response(lambda r: f"/deployments/{deployment.pk}/status/" in r.url, timeout=6000):
        pass
    expect(marks).to_contain_text(REPLACED)
