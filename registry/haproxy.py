"""The door to the HAProxy process: start it, reload it, and talk to its Runtime API.

HAProxy runs in master-worker mode on files under ``HAPROXY_DIR``: ``haproxy.cfg``, the admin
socket (Runtime API, one worker's view), the master socket (``reload``) and a pid file. Whoever
runs it holds ``haproxy.lock``: the master inherits the locked file, so the lock is free exactly
when no HAProxy of ours runs, and two processes never start two (HAProxy binds with SO_REUSEPORT,
so a second one would not even fail).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

SOCKET_TIMEOUT_S = 2.0


class LoadBalancerError(Exception):
    """HAProxy is missing, does not start, refuses its config or does not answer."""


class LoadBalancerDown(LoadBalancerError):
    """Nothing answers on the admin socket."""


def directory() -> Path:
    path = Path(settings.HAPROXY_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path() -> Path:
    return directory() / "haproxy.cfg"


def admin_socket() -> str:
    return str(directory() / "admin.sock")


def master_socket() -> str:
    return str(directory() / "master.sock")


def pid_path() -> Path:
    return directory() / "haproxy.pid"


# --- the Runtime API ----------------------------------------------------------------------------


def _ask(path: str, command: str, timeout: float = SOCKET_TIMEOUT_S) -> str:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(command.encode() + b"\n")
            sock.shutdown(socket.SHUT_WR)  # the master CLI answers only once it sees the end of input
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise LoadBalancerDown(f"HAProxy does not answer on {path}: {exc}") from exc
    except OSError as exc:
        raise LoadBalancerError(f"HAProxy's socket {path}: {exc}") from exc
    return b"".join(chunks).decode(errors="replace")


def runtime(command: str) -> str:
    """One Runtime API command on the admin socket; its answer."""
    return _ask(admin_socket(), command)


def runtime_batch(commands: list[str], *, per_call: int = 200) -> list[str]:
    """Several commands, ``;``-joined into a few connections. Returns the non-empty answers
    (``set server`` answers nothing on success; anything it says is a complaint worth logging)."""
    answers: list[str] = []
    for start in range(0, len(commands), per_call):
        reply = runtime(";".join(commands[start : start + per_call]))
        answers += [line for line in reply.splitlines() if line.strip() and not line.startswith("no need to change")]
    return answers


def alive() -> bool:
    try:
        runtime("show info")
    except LoadBalancerError:
        return False
    return True


def servers_state() -> str:
    return runtime("show servers state")


def stat() -> str:
    return runtime("show stat")


# --- the process ---------------------------------------------------------------------------------


def check_config(text: str) -> Path:
    """Write ``text`` beside the live config and let HAProxy check it; the checked file's path."""
    candidate = directory() / "haproxy.cfg.new"
    candidate.write_text(text)
    try:
        result = subprocess.run(
            [settings.HAPROXY_BIN, "-c", "-q", "-f", str(candidate)], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError as exc:
        raise LoadBalancerError(f"{settings.HAPROXY_BIN} is not installed (apt-get install haproxy)") from exc
    if result.returncode != 0:
        raise LoadBalancerError(f"HAProxy refused the config: {(result.stderr or result.stdout).strip()[:2000]}")
    return candidate


def install_config(text: str) -> None:
    check_config(text).replace(config_path())


@contextlib.contextmanager
def _run_lock(*, blocking: bool) -> Iterator[int | None]:
    """The lock HAProxy's master holds while it lives; yields the locked fd, or None if it is taken."""
    fd = os.open(directory() / "haproxy.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        yield fd
    finally:
        os.close(fd)


def command_line(*, daemon: bool) -> list[str]:
    return [
        settings.HAPROXY_BIN,
        "-W",
        "-D" if daemon else "-db",
        "-S",
        f"{master_socket()},mode,600",
        "-p",
        str(pid_path()),
        "-f",
        str(config_path()),
    ]


def start() -> bool:
    """Start HAProxy (daemon, master-worker) on the installed config; False if ours already runs."""
    with _run_lock(blocking=False) as fd:
        if fd is None:
            return False
        for stale in (admin_socket(), master_socket()):
            Path(stale).unlink(missing_ok=True)
        os.set_inheritable(fd, True)
        try:
            result = subprocess.run(
                command_line(daemon=True), pass_fds=(fd,), capture_output=True, text=True, timeout=30
            )
        except FileNotFoundError as exc:
            raise LoadBalancerError(f"{settings.HAPROXY_BIN} is not installed (apt-get install haproxy)") from exc
        if result.returncode != 0:
            raise LoadBalancerError(f"HAProxy did not start: {(result.stderr or result.stdout).strip()[:2000]}")
    wait_until_answering()
    return True


def exec_foreground() -> None:
    """Become HAProxy in the foreground (for a process supervisor), holding the run lock.

    Waits for the lock while another HAProxy of ours runs (one the tick started), so the two
    never run at once. Does not return.
    """
    with _run_lock(blocking=True) as fd:
        assert fd is not None
        os.set_inheritable(fd, True)
        for stale in (admin_socket(), master_socket()):
            Path(stale).unlink(missing_ok=True)
        argv = command_line(daemon=False)
        os.execvp(argv[0], argv)


def wait_until_answering(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not alive():
        if time.monotonic() > deadline:
            raise LoadBalancerDown(f"HAProxy did not answer on {admin_socket()} within {timeout:.0f}s")
        time.sleep(0.02)


def worker_pid() -> int:
    for line in runtime("show info").splitlines():
        if line.startswith("Pid:"):
            return int(line.split(":", 1)[1])
    raise LoadBalancerError("show info has no Pid")


def reload(timeout: float = 10.0) -> None:
    """Seamless reload: the master starts a worker on the new config (listeners handed over),
    the old worker finishes its connections. Returns once the new worker answers."""
    before = worker_pid()
    _ask(master_socket(), "reload")
    deadline = time.monotonic() + timeout
    while True:
        try:
            if worker_pid() != before:
                return
        except LoadBalancerError:
            pass
        if time.monotonic() > deadline:
            raise LoadBalancerError(f"HAProxy's worker was not replaced within {timeout:.0f}s of a reload")
        time.sleep(0.02)


def master_pid() -> int | None:
    try:
        return int(pid_path().read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def stop(timeout: float = 10.0) -> None:
    """Stop our HAProxy (tests, and the operator's ``run_haproxy`` shutdown)."""
    pid = master_pid()
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with _run_lock(blocking=False) as fd:
        free = fd is not None
    while not free and time.monotonic() < deadline:
        time.sleep(0.05)
        with _run_lock(blocking=False) as fd:
            free = fd is not None
