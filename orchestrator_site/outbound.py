"""HTTP requests to hosts a user named (alert webhooks), made safely.

- The host is resolved once, every address it resolves to is checked against
  ``orchestrator_site.addresses`` and the connection goes to that checked address (pinned), so a
  DNS answer that changes between the check and the connect (rebinding) gains nothing.
- Redirects are not followed (a 3xx is the answer), no proxy is used (``http.client`` reads no
  ``*_proxy`` variables), TLS is verified against the URL's host name.
- The whole exchange has one deadline: a watchdog shuts the socket down when it passes, so a server
  dripping a byte a second cannot hold the caller past it (a per-read timeout would never fire).
- At most ``MAX_RESPONSE_BYTES`` of the answer are read.

``request_loopback`` is the same client for the orchestrator's own checks of a container's port on
127.0.0.1 (probes): no address policy there, but the same deadline and read cap.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from orchestrator_site.addresses import IPNetwork, forbidden_reason

MAX_RESPONSE_BYTES = 64 * 1024
SCHEMES = {"http": 80, "https": 443}
# getaddrinfo has no timeout of its own: it runs here, and the caller stops waiting at its deadline.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")


class Refused(Exception):
    """The URL may not be requested (scheme, host, or an address the policy forbids)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    address: str
    elapsed_s: float


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise Refused("the URL must be http or https")
    if not parts.hostname:
        raise Refused("the URL needs a host")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise Refused("the URL's port is not a number from 1 to 65535") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path)


def resolve(host: str, port: int, timeout_s: float) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is itself); raises OSError when none."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(0.01, timeout_s))
    except FutureTimeout:
        raise OSError(f"resolving {host} took longer than {timeout_s:.1f}s") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    return addresses


def checked_literal(host: str, allowed: list[IPNetwork]) -> None:
    """Refuse ``host`` if it is an IP address the policy forbids (a name passes: it is not resolved)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    reason = forbidden_reason(address, allowed)
    if reason:
        raise Refused(f"{host} is refused: {reason}")


def checked_address(host: str, port: int, allowed: list[IPNetwork], timeout_s: float) -> str:
    """The address to connect to: the first ``host`` resolves to, if none of them is forbidden."""
    addresses = resolve(host, port, timeout_s)
    for address in addresses:
        reason = forbidden_reason(ipaddress.ip_address(address.split("%")[0]), allowed)
        if reason:
            raise Refused(f"{host} is refused: {reason}")
    return addresses[0]


def request(
    url: str,
    *,
    method: str = "POST",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    deadline_s: float,
    allowed: list[IPNetwork],
) -> Answer:
    """Send one request to ``url`` under the address policy; everything within ``deadline_s`` seconds.

    Raises :class:`Refused` for a URL the policy forbids, ``OSError``/``HTTPException`` for network
    failures, including the deadline passing (``TimeoutError``).
    """
    started = time.monotonic()
    target = parse(url)
    address = checked_address(target.host, target.port, allowed, deadline_s)
    return _exchange(target, address, method, body, headers or {}, started + deadline_s, started)


def request_loopback(port: int, path: str, *, deadline_s: float, method: str = "GET") -> Answer:
    """A request to 127.0.0.1:``port`` (a container's published port), with the same deadline and cap."""
    started = time.monotonic()
    target = Target("http", "127.0.0.1", port, path or "/")
    return _exchange(target, "127.0.0.1", method, None, {}, started + deadline_s, started)


def _exchange(
    target: Target,
    address: str,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    deadline: float,
    started: float,
) -> Answer:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the deadline passed before connecting")
    sock = socket.create_connection((address, target.port), timeout=remaining)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    watchdog.daemon = True
    watchdog.start()
    conn: http.client.HTTPConnection | None = None
    try:
        if target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=target.host)
        conn = _Pinned(target.host, target.port, sock)
        host_header = target.host if target.port == SCHEMES[target.scheme] else f"{target.host}:{target.port}"
        conn.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host_header)
        conn.putheader("Connection", "close")
        for name, value in headers.items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise TimeoutError(f"no complete answer within {deadline - started:.1f}s") from exc
        raise
    finally:
        watchdog.cancel()
        if conn is not None:
            conn.close()
        sock.close()
    if expired.is_set():
        raise TimeoutError(f"no complete answer within {deadline - started:.1f}s")
    return Answer(status, data, address, time.monotonic() - started)


class _Pinned(http.client.HTTPConnection):
    """An HTTPConnection over a socket already connected to the checked address."""

    def __init__(self, host: str, port: int, sock: socket.socket) -> None:
        super().__init__(host, port)
        self.sock = sock

    def connect(self) -> None:  # the socket is connected already; never dial the name again
        return None
