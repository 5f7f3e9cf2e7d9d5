"""Production settings: `manage.py check --deploy` is clean with TLS on, the Content-Security-Policy is
on every answer, and CORS answers only the origins CORS_ALLOWED_ORIGINS names (none by default)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

import conftest
from conftest import ROOT

UI = "https://ui.example.com"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**conftest.test_database_env(), **env}  # (imported by name, pytest would collect it)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_tls_on(db: None) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TLS="true",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="orchestrator.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_tls_check_deploy_names_what_is_missing(db: None) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(64))

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_every_answer_carries_the_content_security_policy(client: Client, api_client: APIClient) -> None:
    for response in (client.get("/health"), client.get("/accounts/login/"), api_client.get("/containers")):
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_with_tls_http_is_redirected_but_the_open_health_check_is_not(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/containers").status_code == 301
    assert Client().get("/containers")["Location"] == "https://testserver/containers"
    assert Client().get("/health").status_code == 200


def preflight(origin: str) -> Any:
    return Client().options(
        "/containers",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


def test_no_origin_is_allowed_by_default(settings: Any, api_client: APIClient) -> None:
    assert settings.CORS_ALLOWED_ORIGINS == []

    assert "Access-Control-Allow-Origin" not in preflight(UI).headers
    answer = api_client.get("/containers", HTTP_ORIGIN=UI)
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers


def test_an_allowed_origin_gets_cors_with_credentials_and_another_gets_nothing(
    settings: Any, api_client: APIClient
) -> None:
    settings.CORS_ALLOWED_ORIGINS = [UI]

    allowed = preflight(UI)
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == UI
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    assert "authorization" in allowed["Access-Control-Allow-Headers"]
    answer = api_client.get("/containers", HTTP_ORIGIN=UI)
    assert answer.status_code == 200 and answer["Access-Control-Allow-Origin"] == UI

    refused = preflight("https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Credentials" not in refused.headers
    other = api_client.get("/containers", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_allowed_origins_come_from_the_environment() -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)"
    env = {**os.environ, "CORS_ALLOWED_ORIGINS": f"{UI}, https://ops.example.com"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str([UI, "https://ops.example.com"])
