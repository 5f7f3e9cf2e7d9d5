"""The production stack for real: compose.yaml on the locally built images, from nothing to torn down.

One test walks what an operator does and what the product must survive: bring the stack up (a
second ``up`` changes nothing), log in, deploy the demo image through the API, see it serve and
be sampled from the cgroup files inside the worker container, restart the worker and see the
system carry on, ``down`` and ``up`` again with the data and the running containers kept, then
tear it all down. It runs under its own compose project name, console port and orchestrator
instance, so it never touches another stack, ``make run`` or another test's containers; it removes
its containers, volumes, network, secrets and app image, and keeps the cached base and service
images. ``pytest -m stack`` runs it alone.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import TEST_IMAGE_PREFIX, wait_for

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
DEMO = "orchestrator-demo:latest"
HEALTH_FORMAT = "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
# How long a step of the stack may take: generous, because on a shared 2-core machine a restarted
# Python process (Django, Celery) can take a minute or two to come back under load (bringing the
# stack up from nothing took over 300 s at a load average of 44).
SLOW = 240
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat", "watcher", "watch", "haproxy")
# Each step's figure goes to the test's output (-s) and test-artifacts/compose-stack-timings.json.
TIMINGS_PATH = ROOT / "test-artifacts" / "compose-stack-timings.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """One compose project of compose.yaml, driven through Debian's docker-compose."""

    project: str
    port: int
    watch_port: int
    instance: str
    app_image: str
    secrets_dir: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            # The test run's own database, broker and load balancer settings are not the stack's.
            if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "LB_ENABLED")
        }
        env.update(
            COMPOSE_PROJECT_NAME=self.project,
            CONSOLE_PORT=str(self.port),
            WATCH_PORT=str(self.watch_port),
            ORCHESTRATOR_INSTANCE=self.instance,
            ORCHESTRATOR_IMAGE=self.app_image,
            SECRETS_DIR=str(self.secrets_dir),
            DOCKER_GID=str(os.stat("/var/run/docker.sock").st_gid),
        )
        return env

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["docker-compose", "-f", str(ROOT / "compose.yaml"), *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def timed(self, name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = self.run(*args, timeout=timeout)
        self.timings[name] = round(time.monotonic() - started, 1)
        return result

    def container_ids(self, service: str) -> list[str]:
        return self.run("ps", "-q", service).stdout.split()

    def state(self) -> dict[str, tuple[str, str]]:
        """Each long-running service's container id and start time."""
        found: dict[str, tuple[str, str]] = {}
        for service in LONG_RUNNING:
            ids = self.container_ids(service)
            assert len(ids) == 1, f"{service}: expected one container, found {ids}"
            started = docker("inspect", "-f", "{{.State.StartedAt}}", ids[0])
            found[service] = (ids[0], started)
        return found

    def logs(self) -> str:
        return self.run("logs", "--no-color", "--tail", "60", check=False).stdout

    def wait_healthy(self, timeout: float = 2.5 * SLOW) -> None:
        """Until every long-running service runs and its healthcheck, if it has one, says healthy.

        The worker's check (a broker round trip every 30 s) may still be starting: /health/detailed,
        which every caller checks next, sees the worker's heartbeat sooner.
        """

        def healthy() -> bool:
            for service in LONG_RUNNING:
                ids = self.container_ids(service)
                if len(ids) != 1:
                    return False
                status = docker("inspect", "-f", HEALTH_FORMAT, ids[0]).split()
                fine = [["running"], ["running", "healthy"]]
                if service == "worker":
                    fine.append(["running", "starting"])
                if status not in fine:
                    return False
            return True

        wait_for(healthy, timeout=timeout, interval=1.0, what=lambda: f"a healthy stack; logs:\n{self.logs()}")


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def build_images(app_image: str) -> float:
    """The app image under this test's own tag, and the cached base and service images; returns seconds."""
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "scripts" / "images.sh"), "app", "postgres", "redis", "haproxy"],
        cwd=ROOT,
        env={**os.environ, "APP_IMAGE": app_image},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, f"scripts/images.sh failed:\n{result.stderr[-4000:]}"
    return round(time.monotonic() - started, 1)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    suffix = uuid.uuid4().hex[:8]
    made = Stack(
        project=f"orchstacktest{suffix}",
        port=free_port(),
        watch_port=free_port(),
        instance=f"stacktest-{suffix}",
        app_image=f"{TEST_IMAGE_PREFIX}stack-app:{suffix}",
        secrets_dir=tmp_path / "secrets",
    )
    subprocess.run([str(ROOT / "scripts" / "compose-secrets.sh"), str(made.secrets_dir)], check=True, timeout=60)
    try:
        made.timings["build"] = build_images(made.app_image)
        yield made
    finally:
        started = time.monotonic()
        made.run("down", "--volumes", "--remove-orphans", "--timeout", "20", check=False)
        made.timings["down"] = round(time.monotonic() - started, 1)
        # The containers the stack's orchestrator started are not compose's: remove exactly those.
        for cid in docker("ps", "-aq", "--filter", f"label=orchestrator.instance={made.instance}").split():
            docker("rm", "-f", cid, check=False)
        # So are their deployments' networks: left behind, they use up the engine's address pools.
        for net in docker("network", "ls", "-q", "--filter", f"label=orchestrator.instance={made.instance}").split():
            docker("network", "rm", net, check=False)
        docker("rmi", made.app_image, check=False)
        shutil.rmtree(made.secrets_dir, ignore_errors=True)
        TIMINGS_PATH.parent.mkdir(parents=True, exist_ok=True)
        TIMINGS_PATH.write_text(json.dumps(made.timings, indent=2) + "\n")
        print(f"compose stack timings (s): {json.dumps(made.timings)}")
    leftovers = docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={made.project}")
    assert leftovers == "", f"containers of {made.project} left behind: {leftovers}"
    volumes = docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={made.project}")
    assert volumes == "", f"volumes of {made.project} left behind: {volumes}"
    assert docker("image", "inspect", "orchestrator-base:bookworm", check=False), "the cached base must be kept"


def login(stack: Stack) -> requests.Session:
    """Log in through the console's form, as a person would, with the password bootstrap made;
    return an API client with the admin's token."""
    password = stack.run("exec", "-T", "web", "cat", "/app/var/admin-password").stdout.strip()
    session = requests.Session()
    page = session.get(f"{stack.url}/accounts/login/", timeout=30)
    assert page.status_code == 200
    response = session.post(
        f"{stack.url}/accounts/login/",
        data={"username": "admin", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{stack.url}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, f"login failed: {response.status_code}"
    assert "sessionid" in session.cookies
    assert session.get(f"{stack.url}/", timeout=30).status_code == 200
    # Machines call the API with the user's token, as the README says to get one.
    token = stack.run("exec", "-T", "web", "python", "manage.py", "create_token", "admin").stdout.strip()
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    return api


def served(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def running_containers(session: requests.Session, stack: Stack) -> list[dict[str, Any]]:
    body = session.get(f"{stack.url}/containers", timeout=30).json()
    return [c for c in body["containers"] if c.get("status") == "running"]


def detailed_ok(session: requests.Session, stack: Stack, since: float, count: int) -> dict[str, Any] | None:
    """``/health/detailed`` when every component is ok and a sampling round after ``since`` read
    ``count`` containers from the cgroup files (not the stats API)."""
    response = session.get(f"{stack.url}/health/detailed", timeout=30)
    body = response.json()
    sampler = body.get("sampler") or {}
    last = sampler.get("last_round_at")
    if response.status_code != 200 or body["status"] != "ok" or not last:
        return None
    if datetime.fromisoformat(last).timestamp() < since:
        return None
    if (sampler.get("sources") or {}) != {"cgroup": count}:
        return None
    return body


def test_the_stack_comes_up_deploys_samples_survives_a_worker_restart_and_a_down_up(stack: Stack) -> None:
    # --- up from nothing; a second up changes nothing ---------------------------------------------
    started = time.monotonic()
    stack.timed("up", "up", "-d")
    stack.wait_healthy()
    stack.timings["up_to_healthy"] = round(time.monotonic() - started, 1)
    first = stack.state()
    migrate = stack.container_ids("migrate")
    assert len(migrate) == 1
    assert docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", migrate[0]) == "exited 0"
    assert len(stack.container_ids("beat")) == 1

    stack.timed("second_up", "up", "-d")
    assert stack.state() == first, "a second `up` recreated or restarted a service"

    # Only web, worker and watcher hold the engine's socket; the console is published on loopback only.
    for service in LONG_RUNNING:
        mounts = docker("inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", first[service][0])
        assert ("/var/run/docker.sock" in mounts) == (service in ("web", "worker", "watcher")), service
    ports = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Ports}}", first["web"][0]))
    assert [(b["HostIp"], b["HostPort"]) for b in ports["8000/tcp"]] == [("127.0.0.1", str(stack.port))]
    assert requests.get(f"{stack.url}/containers", timeout=30).status_code in (401, 403)

    # --- log in, deploy the demo image through the API, see it serve -------------------------------
    session = login(stack)
    started = time.monotonic()
    response = session.post(
        f"{stack.url}/containers/{DEMO}/start",
        json={"count": 1, "resources": {"cpu_limit": "0.1", "memory_limit": "32m"}, "port": 8080},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    stack.timings["deploy"] = round(time.monotonic() - started, 1)
    started_ids = response.json()["started"]
    assert len(started_ids) == 1
    demo = wait_for(lambda: running_containers(session, stack), timeout=60, what="the demo container running")
    assert [c["id"] for c in demo] == started_ids
    labels = json.loads(docker("inspect", "-f", "{{json .Config.Labels}}", started_ids[0]))
    assert labels["orchestrator.instance"] == stack.instance
    host_port = demo[0]["host_port"]
    page = requests.get(f"http://127.0.0.1:{host_port}/", timeout=30)
    assert page.status_code == 200

    # The watch server answers discovery queries with the same token.
    services = session.get(f"http://127.0.0.1:{stack.watch_port}/api/services/", timeout=30)
    assert services.status_code == 200, services.text
    # The registry's HAProxy (host network, fed through the haproxy-run volume) balances the service.
    listed = services.json()["services"]
    assert len(listed) == 1 and listed[0]["lb_url"], services.text
    wait_for(
        lambda: served(listed[0]["lb_url"]),
        timeout=60,
        interval=0.5,
        what=lambda: (
            f"the demo served at {listed[0]['lb_url']}; haproxy: {stack.run('logs', '--tail', '20', 'haproxy').stdout}"
        ),
    )

    # --- sampled from the cgroup files inside the worker container; every component ok ------------
    since = time.time()
    body = wait_for(
        lambda: detailed_ok(session, stack, since, 1),
        timeout=SLOW,
        interval=1.0,
        what=lambda: f"all ok with a cgroup sample: {session.get(f'{stack.url}/health/detailed').text}",
    )
    assert body["failing"] == []
    metrics = session.get(f"{stack.url}/containers/instances/{started_ids[0]}/health", timeout=30).json()["metrics"]
    assert metrics["source"] == "cgroup", metrics
    assert metrics["memory_bytes"] > 0, metrics
    # The network counters come from the container's /proc/<pid>/net/dev, read from the worker container.
    assert metrics["net_rx_bytes"] is not None and metrics["net_rx_bytes"] > 0, metrics

    # --- restart the worker: the system carries on -------------------------------------------------
    started = time.monotonic()
    stack.run("restart", "worker")
    restarted_at = time.time()
    response = session.post(
        f"{stack.url}/containers/{DEMO}/start",
        json={"count": 1, "resources": {"cpu_limit": "0.1", "memory_limit": "32m"}, "port": 8080},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    wait_for(lambda: len(running_containers(session, stack)) == 2, timeout=60, what="two demo containers running")
    wait_for(
        lambda: detailed_ok(session, stack, restarted_at, 2),
        timeout=SLOW,
        interval=1.0,
        what=lambda: f"sampling after the worker restart: {session.get(f'{stack.url}/health/detailed').text}",
    )
    stack.timings["worker_restart_to_sampled"] = round(time.monotonic() - started, 1)
    two = sorted(c["id"] for c in running_containers(session, stack))

    # --- PostgreSQL away while web starts: web waits instead of crash-looping, then serves -----------
    stack.run("stop", "postgres")
    stack.run("restart", "web")
    web = stack.container_ids("web")[0]
    wait_for(
        lambda: "waiting for the database" in stack.run("logs", "--no-color", "--tail", "20", "web").stdout,
        timeout=60,
        what="web saying it waits for the database",
    )
    assert docker("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", web) == "running 0"
    stack.run("start", "postgres")
    stack.wait_healthy()
    assert docker("inspect", "-f", "{{.RestartCount}}", web) == "0"

    # --- down and up: the data and the running containers are kept, nothing is duplicated ----------
    stack.timed("down_keep_data", "down", "--timeout", "20")
    assert stack.container_ids("web") == []
    started = time.monotonic()
    stack.timed("up_again", "up", "-d")
    stack.wait_healthy()
    stack.timings["up_again_to_healthy"] = round(time.monotonic() - started, 1)
    session = login(stack)  # the same admin password: the var and pgdata volumes were kept
    since = time.time()
    wait_for(lambda: detailed_ok(session, stack, since, 2), timeout=SLOW, interval=1.0, what="sampling after down/up")
    assert sorted(c["id"] for c in running_containers(session, stack)) == two
    managed = docker("ps", "-q", "--no-trunc", "--filter", f"label=orchestrator.instance={stack.instance}").split()
    assert sorted(managed) == two, "the restarted stack adopted the running containers, started no others"

    # --- stop through the API, as the operator would before tearing down ---------------------------
    response = session.post(f"{stack.url}/containers/{DEMO}/stop", json={}, timeout=120)
    assert response.status_code == 200, response.text
    wait_for(
        lambda: docker("ps", "-q", "--filter", f"label=orchestrator.instance={stack.instance}") == "",
        timeout=60,
        what="the demo containers stopped",
    )
