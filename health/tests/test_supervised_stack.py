"""``make run``'s embedded stack for real: scripts/run.sh in its own var dir and port, with the private
Redis broker and every process under supervisord.

It carries 2,000 tasks published by 4 processes at once with none lost and the worker alive, and a
worker and watcher killed from outside are back within 10 s, their restarts in /health/detailed and
the event log, and the system converges after.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from conftest import ROOT
from health import supervision

READY_TIMEOUT_S = 240
TASKS_PER_PROCESS = 500
PUBLISHERS = 4

# Each publisher: 500 ping tasks through the stack's own broker (its settings, from its var dir).
PUBLISH = """
import sys
import django
django.setup()
from health.tasks import ping_worker
from orchestrator_site.celery import app
index, count = int(sys.argv[1]), int(sys.argv[2])
with app.producer_or_acquire() as producer:
    for n in range(count):
        ping_worker.apply_async(args=[f"load-{index}-{n}"], producer=producer)
print("published", count)
"""


@dataclass
class RunStack:
    proc: subprocess.Popen[bytes]
    var: Path
    port: int
    instance: str
    env: dict[str, str]
    log: Path
    token: str = ""

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def supervisor(self) -> Any:
        return supervision.rpc(f"unix://{self.var}/supervisor.sock", timeout=10).supervisor

    def pid(self, program: str) -> int:
        return int(self.supervisor().getProcessInfo(program)["pid"])

    def celery(self) -> Celery:
        # Celery prefers the CELERY_BROKER_URL of the environment (this test run's Redis) to its argument:
        # the tests that call this drop it from os.environ first.
        assert "CELERY_BROKER_URL" not in os.environ
        return Celery("stack-probe", broker=f"redis+socket://{self.var}/redis/redis.sock")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, engine_ready: None) -> Iterator[RunStack]:
    """scripts/run.sh with no DATABASE_URL or CELERY_BROKER_URL: the embedded default, as `make run` runs it."""
    base = tmp_path_factory.mktemp("stack")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(
        ORCHESTRATOR_VAR_DIR=str(base / "var"),
        ORCHESTRATOR_PORT=str(free_port()),
        ORCHESTRATOR_WATCH_PORT=str(free_port()),
        ORCHESTRATOR_INSTANCE=f"test-stack-{uuid.uuid4().hex[:6]}",
        PYTHONUNBUFFERED="1",
    )
    log = base / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    run = RunStack(proc, base / "var", int(env["ORCHESTRATOR_PORT"]), env["ORCHESTRATOR_INSTANCE"], env, log)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "run.sh: ready:" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run's stack did not become ready:\n{run.log_tail()}")
            time.sleep(0.5)
        run.token = re.search(r"API token:\s+(\w+)", log.read_text()).group(1)  # type: ignore[union-attr]
        yield run
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does: supervisord stops every program, then exits
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=orchestrator.instance={run.instance}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        # Its deployments' networks too: left behind, they use up the engine's address pools.
        nets = subprocess.run(
            ["docker", "network", "ls", "-q", "--filter", f"label=orchestrator.instance={run.instance}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if nets:
            subprocess.run(["docker", "network", "rm", *nets], capture_output=True)


def ping_tasks_done(stack: RunStack) -> int:
    """How many ping tasks the stack's worker has run (its own count, asked over the broker)."""
    replies = stack.celery().control.inspect(timeout=2).stats() or {}
    return sum(stats.get("total", {}).get("health.tasks.ping_worker", 0) for stats in replies.values())


def queued(stack: RunStack) -> int:
    out = subprocess.run(
        ["redis-cli", "-s", str(stack.var / "redis" / "redis.sock"), "llen", "celery"], capture_output=True, text=True
    )
    return int(out.stdout.strip())


def test_it_carries_2000_tasks_from_4_processes_with_none_lost_and_the_worker_alive(
    stack: RunStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    worker = stack.pid("worker")
    before = ping_tasks_done(stack)

    publishers = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, str(index), str(TASKS_PER_PROCESS)],
            cwd=ROOT,
            env=stack.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for index in range(PUBLISHERS)
    ]
    for publisher in publishers:
        output = publisher.communicate(timeout=180)[0].decode()
        assert publisher.returncode == 0, output

    expected = before + PUBLISHERS * TASKS_PER_PROCESS
    deadline = time.monotonic() + 180
    done = ping_tasks_done(stack)
    while done < expected and time.monotonic() < deadline:
        time.sleep(1)
        done = ping_tasks_done(stack)
    assert done == expected, f"the worker ran {done - before} of {PUBLISHERS * TASKS_PER_PROCESS} tasks"
    assert queued(stack) == 0
    assert stack.pid("worker") == worker  # the same worker process throughout: it never fell over
    assert stack.supervisor().getProcessInfo("worker")["statename"] == "RUNNING"


def running_replicas(stack: RunStack, image: str) -> list[str]:
    status, body = stack.api("GET", "/containers")
    assert status == 200, body
    rows = body["containers"] if isinstance(body, dict) else body
    return [row["id"] for row in rows if row.get("image") == image and row.get("status") == "running"]


def test_a_killed_worker_and_watcher_are_back_within_10s_and_the_system_converges(stack: RunStack) -> None:
    old = {name: stack.pid(name) for name in ("worker", "watcher")}
    killed_at = time.monotonic()
    for pid in old.values():
        os.kill(pid, signal.SIGKILL)

    back: dict[str, float] = {}
    while len(back) < 2 and time.monotonic() - killed_at < 10:
        for name in old:
            info = stack.supervisor().getProcessInfo(name)
            if name not in back and info["statename"] == "RUNNING" and info["pid"] != old[name]:
                back[name] = time.monotonic() - killed_at
        time.sleep(0.2)
    assert set(back) == {"worker", "watcher"}, f"back within 10 s: {back}\n{stack.log_tail()}"

    # Both report again, and /health/detailed and the event log show each restart.
    deadline = time.monotonic() + 30
    while True:
        status, health = stack.api("GET", "/health/detailed")
        components = health["components"]
        if components["worker"]["status"] == components["watcher"]["status"] == "ok":
            break
        assert time.monotonic() < deadline, health
        time.sleep(0.5)
    programs = health["processes"]["programs"]
    assert programs["worker"]["restarts"] >= 1 and programs["watcher"]["restarts"] >= 1
    assert programs["worker"]["pid"] != old["worker"] and programs["worker"]["state"] == "RUNNING"
    status, events = stack.api("GET", "/api/events/?kind=process.restarted")
    assert status == 200
    restarted = {event["after"]["process"] for event in events["results"]}
    assert {"worker", "watcher"} <= restarted
    status, events = stack.api("GET", "/api/events/?kind=process.exited")
    assert {"worker", "watcher"} <= {event["after"]["process"] for event in events["results"]}

    # The system converges: a start is carried out, and a replica killed from outside is replaced.
    image = "orchestrator-demo:latest"
    status, body = stack.api(
        "POST", f"/containers/{image}/start", {"count": 2, "resources": {"cpu_limit": "0.05", "memory_limit": "16m"}}
    )
    assert status in (200, 201), body
    deadline = time.monotonic() + 60
    while len(ids := running_replicas(stack, image)) < 2:
        assert time.monotonic() < deadline, f"never 2 running: {ids}"
        time.sleep(0.5)
    victim = ids[0]
    subprocess.run(["docker", "kill", victim], capture_output=True, check=True)
    deadline = time.monotonic() + 30
    while True:
        ids = running_replicas(stack, image)
        if len(ids) == 2 and victim not in ids:
            break
        assert time.monotonic() < deadline, f"the killed replica was not replaced: {ids}"
        time.sleep(0.5)
