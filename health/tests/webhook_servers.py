"""Small HTTP servers on 127.0.0.1 for webhook tests: one that records POSTs, one that answers with a
redirect, one that drips its answer a byte at a time, one that acts as a proxy and records use."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Server:
    """A threaded HTTP server on 127.0.0.1 whose handler is ``respond(handler)``; requests are recorded."""

    def __init__(self, respond: Any) -> None:
        requests: list[tuple[str, str, bytes]] = []
        self.requests = requests

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length", 0) or 0)
                requests.append((self.command, self.path, self.rfile.read(length)))
                respond(self)

            do_POST = do_GET = handle_one  # noqa: N815 (http.server's naming)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "2")
    handler.end_headers()
    handler.wfile.write(b"ok")


def redirect_to(location: str) -> Any:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(307)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond


def huge(size: int) -> Any:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(size // len(chunk)):
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: what the test wants

    return respond


def drip(interval_s: float = 0.3, stop: threading.Event | None = None) -> Any:
    """Answer one byte every ``interval_s`` forever (until ``stop``): each read of a client sees data in time."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
        try:
            for byte in head:
                if stop is not None and stop.is_set():
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(interval_s)
        except OSError:
            pass

    return respond


def silent_listener() -> tuple[socket.socket, int]:
    """A socket that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock, sock.getsockname()[1]
