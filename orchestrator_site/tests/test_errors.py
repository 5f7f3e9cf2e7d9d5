"""Failures nobody handled answer the project's JSON error with a request id (and are logged with it);
Django's own 400 and 404 answers are JSON on the API and seed paths too."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def boom_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "orchestrator_site.tests.boom_urls"


def test_an_unhandled_exception_on_an_api_path_is_a_json_500_logged_with_its_request_id(
    boom_urls: None, api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    api_client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="orchestrator.errors"):
        response = api_client.get("/api/boom/")

    assert response.status_code == 500
    body = response.json()
    request_id = response["X-Request-ID"]
    assert body["request_id"] == request_id and request_id in body["error"]
    assert "no handler knows" not in body["error"]  # what failed is in the log, not in the answer
    [logged] = [r for r in caplog.records if request_id in r.getMessage()]
    assert "Boom" in logged.getMessage() and logged.exc_info is not None


def test_a_proxy_s_request_id_is_kept(api_client: APIClient) -> None:
    response = api_client.get("/api/events/", HTTP_X_REQUEST_ID="lb-1234.abc")

    assert response.status_code == 200 and response["X-Request-ID"] == "lb-1234.abc"


def test_an_id_that_is_not_sane_is_replaced(api_client: APIClient) -> None:
    response = api_client.get("/api/events/", HTTP_X_REQUEST_ID="x" * 500)

    assert response["X-Request-ID"] != "x" * 500 and len(response["X-Request-ID"]) == 32


def test_a_console_page_that_fails_keeps_the_html_500_with_the_id_in_its_header(boom_urls: None, user: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(user)

    response = client.get("/console/boom/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html") and response["X-Request-ID"]


def test_an_unknown_api_path_is_a_json_404(api_client: APIClient) -> None:
    response = api_client.get("/api/no-such-thing/")

    assert response.status_code == 404 and "no such path" in response.json()["error"]


def test_a_body_over_the_upload_limit_on_a_seed_path_is_a_json_413(api_client: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = api_client.post(
        "/containers/orchestrator-demo:latest/start", {"count": 1, "pad": "x" * 4096}, format="json"
    )

    assert response.status_code == 413 and response.json()["error"]
