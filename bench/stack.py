"""A throwaway orchestrator for benchmarks: web (gunicorn), worker and watcher as real processes.

It runs the embedded default (SQLite + a private Redis on a unix socket, as ``make run`` does) in a
temporary var dir unless DATABASE_URL / CELERY_BROKER_URL are set, labels its containers with its own instance name
and removes exactly those when it stops.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
if not Path(PYTHON).exists():
    PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    def __init__(self, **extra_env: str) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="orchestrator-bench-"))
        self.instance = f"bench-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.env = {
            **os.environ,
            "ORCHESTRATOR_VAR_DIR": str(self.var_dir),
            "ORCHESTRATOR_INSTANCE": self.instance,
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.token = ""

    def manage(self, *args: str) -> str:
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def spawn(self, name: str, *argv: str) -> None:
        log = (self.var_dir / f"{name}.log").open("ab")
        self.procs.append(subprocess.Popen(list(argv), cwd=ROOT, env=self.env, stdout=log, stderr=log))

    def start(self) -> Stack:
        if "CELERY_BROKER_URL" not in self.env:
            self.start_redis()
        self.manage("migrate", "--noinput", "-v0")
        self.manage("bootstrap")  # registers (and if needed builds) the demo image
        # The last line: Django 5.2's shell prints a note about auto-imports first.
        self.token = self.manage("shell", "-c", _CREATE_USER).strip().splitlines()[-1]
        self.spawn(
            "worker",
            PYTHON,
            "-m",
            "celery",
            "-A",
            "orchestrator_site",
            "worker",
            "-l",
            "warning",
            "--concurrency",
            "4",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.instance}@%h",
        )
        self.spawn("watcher", PYTHON, "manage.py", "watch_engine")
        self.spawn(
            "web",
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "orchestrator_site.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "120",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/health")
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the web process did not come up; logs in {self.var_dir}")

    def start_redis(self) -> None:
        """The embedded broker: redis-server on the unix socket settings.REDIS_SOCKET names for this var dir."""
        sock = self.var_dir / "redis" / "redis.sock"
        sock.parent.mkdir(parents=True, exist_ok=True)
        self.spawn(
            "redis",
            "redis-server",
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(sock.parent),
            "--save",
            "",
            "--appendonly",
            "no",
        )
        deadline = time.monotonic() + 10
        while not sock.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.var_dir / 'redis.log'}")
            time.sleep(0.05)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Token {self.token}")
        with urllib.request.urlopen(req, timeout=120) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def stop_haproxy(self) -> None:
        """The worker's load balancer tick started HAProxy as a daemon (HAPROXY_START=auto): stop it too."""
        directory = Path(self.env.get("HAPROXY_DIR") or self.var_dir / "haproxy")
        try:
            os.kill(int((directory / "haproxy.pid").read_text().split()[0]), signal.SIGTERM)
        except (FileNotFoundError, ValueError, IndexError, ProcessLookupError):
            pass

    def stop(self) -> None:
        # The broker (started first) stops last, so the worker's warm shutdown can still reach it.
        has_broker = bool(self.procs) and self.procs[0].args[0] == "redis-server"
        broker, others = (self.procs[:1], self.procs[1:]) if has_broker else ([], self.procs)
        for group in (others, broker):
            for proc in group:
                proc.terminate()
            for proc in group:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.stop_haproxy()
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=orchestrator.instance={self.instance}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        # Its deployments' networks too: each holds one of the engine's few address pools, and a bench
        # that left them behind made every later network creation on the machine fail.
        networks = subprocess.run(
            ["docker", "network", "ls", "-q", "--filter", f"label=orchestrator.instance={self.instance}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if networks:
            removed = subprocess.run(["docker", "network", "rm", *networks], capture_output=True, text=True)
            if removed.returncode:
                # Seen: the engine keeping an endpoint of a container already removed ("has active endpoints");
                # only restarting dockerd clears it. Said, so the network is not left behind unnoticed.
                print(f"bench stack: networks not removed: {removed.stderr.strip()}", file=sys.stderr)


_CREATE_USER = """
from django.contrib.auth import get_user_model
User = get_user_model()
from rest_framework.authtoken.models import Token
from tenancy.models import Membership, default_organization
user = User.objects.filter(username="bench").first() or User.objects.create_user("bench", password=None)
# An operator of the default organization: deploying is what an operator may do.
Membership.objects.get_or_create(user=user, organization=default_organization(), defaults={"role": "operator"})
print(Token.objects.get_or_create(user=user)[0].key)
"""
