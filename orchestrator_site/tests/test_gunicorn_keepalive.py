"""The web server keeps an idle connection open longer than its clients leave one idle.

With gunicorn's default (2 s) a connection idle as long as the console's 2 s poll was closed just as
the next request arrived on it, and the client got a connection reset (the soak's
``GET /: ConnectionResetError(104)``). This runs gunicorn exactly as configured by ./gunicorn.conf.py
(a tiny WSGI app stands in for Django, so it needs no database) and reuses one connection after
5 s of silence.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "tinyapp.py").write_text(APP)
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", str(tmp_path), "-b", f"127.0.0.1:{port}"]
    # The worker class and threads of every real start (scripts/run.sh, compose, the Dockerfile): gthread.
    process = subprocess.Popen([*command, "--workers", "1", "--threads", "2", "tinyapp"], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("gunicorn did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_idle_connection_longer_than_the_console_s_poll_is_still_open(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", "/")
    first = connection.getresponse()
    assert first.status == 200 and first.read() == b"ok"
    assert first.getheader("Connection", "").lower() != "close"
    sock = connection.sock
    assert sock is not None

    time.sleep(5)  # the console polls every 2 s; the old 2 s keep-alive closed at 2-3 s

    sock.setblocking(False)
    try:
        closed_by_server = sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        closed_by_server = False  # nothing to read: still open
    sock.setblocking(True)
    assert not closed_by_server
    connection.request("GET", "/")
    second = connection.getresponse()
    assert second.status == 200 and second.read() == b"ok"
    assert connection.sock is sock  # the same connection, not a new one
