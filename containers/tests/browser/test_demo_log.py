"""The demo image's web server logs each request, so a newcomer's first look at a container's log (its
console page) shows something: the requests they just made."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from containers import engine, reconcile
from containers.deployments import create_deployment
from containers.models import Container, Image

pytestmark = pytest.mark.browser


@pytest.fixture
def served(demo_image: Image, transactional_db: Any) -> Iterator[Container]:
    deployment = create_deployment(
        actor="tests",
        name="chatty-demo",
        image=demo_image,
        replicas=1,
        cpu_limit=Decimal("0.1"),
        memory_limit_bytes=16 * 1024**2,
        container_port=8080,
    )
    reconcile.converge(deployment.pk)
    yield Container.objects.get(deployment=deployment)
    for info in engine.list_containers(engine.deployment_labels(deployment.pk)):
        engine.remove_container(info.id)


def test_the_demo_server_logs_each_request_in_the_container_s_log(console: Page, served: Container) -> None:
    console.goto(f"/console/containers/{served.pk}/")
    log = console.locator("pre.log")
    expect(log).to_contain_text("serving /www on port 8080")

    url = f"http://127.0.0.1:{served.host_port}/hello-from-the-test"
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError as error:  # no such page: a 404, logged all the same
        assert error.code == 404

    # The log follows while the page is open: the request shows up without a reload.
    expect(log).to_contain_text("url:/hello-from-the-test")
    expect(log).to_contain_text("response:404")
