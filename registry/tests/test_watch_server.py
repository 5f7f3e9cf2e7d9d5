"""The watch server (uvicorn, ASGI) answering blocking discovery queries, run for real on this run's database."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

import conftest
from conftest import ROOT, wait_for
from registry import endpoints
from registry.models import Service


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def watch_env() -> dict[str, str]:
    """Extra environment for the watch server (a test may override this fixture)."""
    return {}


@pytest.fixture
def watch_server(transactional_db: None, tmp_path: Any, watch_env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("wb")
    argv = [sys.executable, "-m", "uvicorn", "registry.asgi:application", "--host", "127.0.0.1"]
    env = {**conftest.test_database_env(), **watch_env}
    proc = subprocess.Popen([*argv, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)

    def answers() -> bool:
        try:
            return get(port, "/health")[0] == 200
        except OSError:
            return False

    try:
        wait_for(answers, timeout=20, what="uvicorn to answer")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def token(user: Any) -> str:
    return Token.objects.create(user=user).key


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 40) -> tuple[int, Any, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None), response.headers
    finally:
        conn.close()


def test_a_blocking_query_returns_within_200_ms_of_a_change(watch_server: int, token: str) -> None:
    assert_woken_within_200_ms(watch_server, token)


@pytest.mark.parametrize("watch_env", [{"DISCOVERY_NOTIFY": "redis", "DISCOVERY_POLL_S": "5"}])
def test_redis_pub_sub_wakes_watchers_at_once(watch_server: int, token: str, settings: Any) -> None:
    """The embedded default's way (SQLite + the broker's Redis), forced here on PostgreSQL: with the
    poll at 5 s, only the Redis message published at commit can answer within 200 ms."""
    settings.DISCOVERY_NOTIFY = "redis"  # this process publishes its changes on Redis too
    assert_woken_within_200_ms(watch_server, token)


def assert_woken_within_200_ms(watch_server: int, token: str) -> None:
    endpoints.register(service="orders", host="127.0.0.1", port=9201, actor="tests", status="healthy")
    auth = {"Authorization": f"Token {token}"}
    status, body, _ = get(watch_server, "/api/services/orders/", auth)
    assert status == 200
    answered: list[tuple[float, int, Any]] = []

    def watch() -> None:
        status, body, _ = get(watch_server, f"/api/services/orders/?index={body_index}&wait=20s", auth)
        answered.append((time.monotonic(), status, body))

    body_index = body["index"]
    thread = threading.Thread(target=watch)
    thread.start()
    time.sleep(1.0)  # the watcher is waiting
    assert not answered
    changed_at = time.monotonic()
    endpoints.register(service="orders", host="127.0.0.1", port=9202, actor="tests", status="healthy")
    thread.join(timeout=10)

    when, status, new = answered[0]
    assert status == 200
    assert new["index"] > body_index and len(new["endpoints"]) == 2
    assert when - changed_at < 0.2, f"answered {1000 * (when - changed_at):.0f} ms after the change"


def test_a_blocking_query_answers_at_its_timeout_with_the_same_body_or_304(watch_server: int, token: str) -> None:
    endpoints.register(service="quiet", host="127.0.0.1", port=9301, actor="tests", status="healthy")
    auth = {"Authorization": f"Token {token}"}
    _, body, headers = get(watch_server, "/api/services/quiet/", auth)

    started = time.monotonic()
    status, same, _ = get(watch_server, f"/api/services/quiet/?index={body['index']}&wait=1s", auth)
    took = time.monotonic() - started
    status_304, _, _ = get(
        watch_server,
        f"/api/services/quiet/?index={body['index']}&wait=500ms",
        {**auth, "If-None-Match": headers["ETag"]},
    )

    assert status == 200 and same == body
    assert 0.95 <= took < 1.5
    assert status_304 == 304


def test_the_watch_server_answers_like_the_api(watch_server: int, token: str) -> None:
    endpoints.register(service="mirror", host="127.0.0.1", port=9401, actor="tests", status="healthy")
    auth = {"Authorization": f"Token {token}"}
    service = Service.objects.get(name="mirror")

    status, body, headers = get(watch_server, "/api/services/mirror/", auth)
    assert (
        status == 200 and body["lb_url"] == service.lb_url and headers["X-Registry-Index"] == str(service.modify_index)
    )
    assert get(watch_server, "/api/services/mirror/", {**auth, "If-None-Match": headers["ETag"]})[0] == 304
    assert get(watch_server, "/api/services/", auth)[1]["services"][0]["name"] == "mirror"
    assert get(watch_server, "/api/services/mirror/")[0] == 401
    assert get(watch_server, "/api/services/mirror/", {"Authorization": "Token wrong"})[0] == 401
    bad = get(watch_server, "/api/services/mirror/?index=x", auth)
    assert bad[0] == 400 and "index" in bad[1]["fields"]
    assert get(watch_server, "/api/services/mirror/?index=1&wait=1h", auth)[1]["fields"].keys() == {"wait"}
    assert get(watch_server, "/api/services/nope/", auth)[0] == 404


def test_another_organizations_service_is_a_404_and_left_out_of_the_list(watch_server: int, token: str) -> None:
    from conftest import make_member
    from tenancy.models import Organization

    beta = Organization.objects.create(name="Beta", slug="beta")
    bob = make_member("bob", beta, "viewer")
    endpoints.register(service="alpha-orders", host="127.0.0.1", port=9401, actor="tests", status="healthy")
    endpoints.register(service="beta-orders", host="127.0.0.1", port=9402, actor="tests", organization=beta)
    bobs = {"Authorization": f"Token {Token.objects.create(user=bob).key}"}
    alices = {"Authorization": f"Token {token}"}

    assert get(watch_server, "/api/services/alpha-orders/", bobs)[0] == 404
    assert get(watch_server, "/api/services/beta-orders/", bobs)[0] == 200
    assert get(watch_server, "/api/services/beta-orders/", alices)[0] == 404
    listed = get(watch_server, "/api/services/", bobs)[1]
    assert [s["name"] for s in listed["services"]] == ["beta-orders"]
