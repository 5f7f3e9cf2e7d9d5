"""Log tails are capped in bytes as well as lines: a container printing huge lines cannot make a log
request hold megabytes (API ``/api/containers/<pk>/logs/`` and the console's log partial)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from conftest import deploy, wait_for
from containers import engine
from containers.models import Container, Image

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]

# 200 numbered lines of 10,000 bytes each (with the newline) (about 2 MB), then "done", then it idles.
BIG_LINES = [
    "sh",
    "-c",
    'i=0; while [ $i -lt 200 ]; do i=$((i+1)); printf "%05d" $i; head -c 9994 /dev/zero | tr "\\0" x; echo; done;'
    " echo done; exec sleep 3600",
]
CAP = 64 * 1024


@pytest.fixture
def chatty(demo_image: Image) -> Container:
    deployment = deploy(demo_image, "log-cap", command=BIG_LINES)
    container = Container.objects.get(deployment=deployment)
    wait_for(lambda: engine.container_logs(container.docker_id, tail=1).strip() == "done", what="the big lines")
    return container


@override_settings(LOG_TAIL_MAX_BYTES=CAP)
def test_the_api_log_tail_keeps_only_the_last_bytes(api_client: APIClient, chatty: Container) -> None:
    response = api_client.get(f"/api/containers/{chatty.pk}/logs/", {"tail": 5000})

    logs = response.json()["logs"]
    assert response.status_code == 200
    assert len(logs.encode()) <= CAP + 100  # the cap plus the note saying it cut
    assert logs.startswith("[earlier output cut: the log tail is capped at 65536 bytes]\n")
    lines = logs.splitlines()
    assert lines[-1] == "done" and lines[-2].startswith("00200x")
    # Whole lines only after the note: the partial first line is dropped.
    assert all(len(line) == 9999 for line in lines[1:-1])


@override_settings(LOG_TAIL_MAX_BYTES=CAP)
def test_the_console_log_partial_is_capped_too(client: Client, user: Any, chatty: Container) -> None:
    client.force_login(user)

    response = client.get(f"/console/containers/{chatty.pk}/log/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert len(response.content) < CAP + 4096  # the capped text plus the partial's markup
    assert "earlier output cut" in response.content.decode()


def test_a_short_tail_is_left_whole(chatty: Container) -> None:
    logs = engine.container_logs(chatty.docker_id, tail=3)

    assert "earlier output cut" not in logs
    assert [line[:5] for line in logs.splitlines()] == ["00199", "00200", "done"]
