"""A real HAProxy per test that asks for one: its own directory (sockets, config, lock) and its own
range of free frontend ports, so parallel runs never collide; stopped afterwards."""

from __future__ import annotations

import random
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from registry import haproxy


@pytest.fixture
def lb(settings: Any) -> Iterator[None]:
    directory = tempfile.mkdtemp(prefix="lb-", dir="/tmp")  # short: socket paths have at most 107 bytes
    base = random.randrange(21000, 29000, 20)
    settings.LB_ENABLED = True
    settings.HAPROXY_DIR = directory
    settings.HAPROXY_START = "auto"
    settings.LB_PORT_MIN, settings.LB_PORT_MAX = base, base + 19
    settings.LB_MIN_SLOTS = 4
    yield
    haproxy.stop()
    shutil.rmtree(directory, ignore_errors=True)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy


def fetch(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """GET ``url``: its status and body (an HTTP error's too)."""
    try:
        with _opener.open(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
