"""The nginx test image (conftest.build_nginx_image) deploys like any image and serves for real."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from conftest import deploy, wait_for

pytestmark = pytest.mark.stack


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


@pytest.mark.django_db(transaction=True)
def test_the_nginx_image_serves_its_hostname_and_health(nginx_image: Any, remove_test_containers: None) -> None:
    deployment = deploy(nginx_image, "nginx-serves", replicas=1, container_port=8080)
    container = deployment.containers.get()
    assert container.host_port
    base = f"http://127.0.0.1:{container.host_port}"
    status, body = wait_for(lambda: fetch(f"{base}/")[0] == 200 and fetch(f"{base}/"), timeout=20, what="nginx up")
    assert body.strip() == container.docker_id[:12]
    assert fetch(f"{base}/health") == (200, "ok\n")
