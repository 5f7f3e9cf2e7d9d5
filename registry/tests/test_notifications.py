"""Which notification way a process picks, and the broker URLs it understands (pure; no services)."""

from __future__ import annotations

from typing import Any

import pytest

from registry import notifications


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis+socket:///srv/var/redis/redis.sock", {"unix_socket_path": "/srv/var/redis/redis.sock"}),
        ("redis+socket:///tmp/r.sock?virtual_host=3", {"unix_socket_path": "/tmp/r.sock", "db": 3}),
        ("unix:///tmp/r.sock?db=2", {"unix_socket_path": "/tmp/r.sock", "db": 2}),
        ("redis://127.0.0.1:6379/11", {"url": "redis://127.0.0.1:6379/11"}),
        ("rediss://cache.example:6380/0", {"url": "rediss://cache.example:6380/0"}),
        ("filesystem://", None),
        ("amqp://guest@localhost//", None),
        ("redis+socket://", None),
    ],
)
def test_broker_urls(url: str, expected: dict[str, Any] | None) -> None:
    assert notifications.redis_url_kwargs(url) == expected


@pytest.mark.parametrize(
    ("chosen", "broker", "expected"),
    [
        ("auto", "redis://127.0.0.1:6379/1", "postgres"),  # the tests run on PostgreSQL
        ("redis", "redis://127.0.0.1:6379/1", "redis"),
        ("poll", "redis://127.0.0.1:6379/1", "poll"),
    ],
)
def test_mode(settings: Any, chosen: str, broker: str, expected: str) -> None:
    settings.DISCOVERY_NOTIFY = chosen
    settings.CELERY_BROKER_URL = broker
    assert notifications.mode() == expected
