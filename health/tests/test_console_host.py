"""The dashboard's host panel: total, reserved and in-use CPU, memory and disk, from the real engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from containers import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_loads_the_host_panel_lazily(console: Client) -> None:
    page = console.get("/").content.decode()
    assert 'hx-get="/partials/host/"' in page


def test_the_host_panel_shows_the_engine_figures(console: Client, engine_ready: None) -> None:
    response = console.get("/partials/host/", HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f"{engine.host_info().cpus} cores" in body
    assert "Memory" in body and "Disk" in body


def test_an_engine_that_does_not_answer_is_said_in_the_panel(console: Client, settings: Any) -> None:
    settings.DOCKER_HOST = "unix:///nonexistent/docker.sock"
    engine.reset_client()
    try:
        response = console.get("/partials/host/", HTTP_HX_REQUEST="true")
    finally:
        settings.DOCKER_HOST = ""
        engine.reset_client()
    assert response.status_code == 200
    assert "Host figures unavailable" in response.content.decode()


def test_anonymous_users_are_sent_to_login() -> None:
    assert Client().get("/partials/host/").status_code == 302
