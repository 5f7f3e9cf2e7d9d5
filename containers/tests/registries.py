"""Image registries for the pull tests: the one at ``$TEST_REGISTRY`` (``make test`` starts it) and
throwaway ones, e.g. behind htpasswd, started on a free 127.0.0.1 port with Debian's ``docker-registry``."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEFAULT_REGISTRY = "127.0.0.1:5000"


def registry_status(address: str) -> int | None:
    """HTTP status of ``GET /v2/`` (200 open, 401 behind auth); None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for as long as the block runs: bound, never listening,
    so no other process (a container's published port, say) can start answering on it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd file: libcrypt (glibc's libxcrypt) if it does bcrypt, else ``htpasswd``."""
    name = ctypes.util.find_library("crypt")
    if name:
        lib = ctypes.CDLL(name)
        lib.crypt_gensalt.restype = ctypes.c_char_p
        lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
        lib.crypt.restype = ctypes.c_char_p
        lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
        hashed = lib.crypt(password.encode(), salt) if salt else None
        if hashed and hashed.startswith(b"$2"):
            return hashed.decode()
    if shutil.which("htpasswd"):
        line = subprocess.run(["htpasswd", "-Bbn", "u", password], capture_output=True, text=True, check=True)
        return line.stdout.strip().split(":", 1)[1]
    pytest.fail("no bcrypt for the registry's htpasswd file: install Debian's apache2-utils (htpasswd)")


class Registry:
    """A ``docker-registry serve`` process with filesystem storage under ``root``."""

    def __init__(self, root: Path, port: int, htpasswd: Path | None = None) -> None:
        self.root = root
        self.address = f"127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        auth = f"auth:\n  htpasswd:\n    realm: orchestrator-test\n    path: {htpasswd}\n" if htpasswd else ""
        self.config = root / "config.yml"
        self.config.write_text(
            "version: 0.1\nlog:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n{auth}"
        )

    def start(self) -> Registry:
        binary = shutil.which("docker-registry")
        if binary is None:
            pytest.fail("these tests need an image registry: install Debian's docker-registry (make test does)")
        log = (self.root / "registry.log").open("ab")
        self.proc = subprocess.Popen([binary, "serve", str(self.config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while registry_status(self.address) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.root / "registry.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"the registry on {self.address} did not start:\n{log_text}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def docker_with_config(config_dir: Path, *args: str, stdin: str | None = None) -> str:
    """The docker CLI with its own config dir, so a ``docker login`` never touches the operator's."""
    env = {**os.environ, "DOCKER_CONFIG": str(config_dir)}
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, input=stdin, env=env)
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()
