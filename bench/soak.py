"""Soak: the embedded stack, exactly as ``make run`` runs it, under a mixed load for ``--minutes N``.

scripts/run.sh is started in a temporary var dir on a free port (SQLite, its private Redis, every
process under supervisord, its own instance label), and these run side by side until time is up:

- console polling: two logged-in browsers' worth of page loads (dashboard, deployments, events, fleet),
  the HTMX partials those pages poll, and API reads (``/containers``, ``/health/detailed``,
  ``/api/deployments/``), about two a second each;
- seed starts and stops: ``POST /containers/{image}/start`` with ``count`` 1 (up to 3 running), then
  ``POST /containers/{image}/stop``, on an image of their own;
- scales: ``POST /api/deployments/{id}/scale/`` of a second deployment between 0 and 3 every 5 s;
- kills from outside: a kill of one replica of a third deployment (2 replicas) every 15 s through the
  Docker SDK, timed from the kill until a replacement runs (``max_replace_s``; polled every 10 ms, as
  bench/scale.py measures it).

It prints the kill-to-replacement times against a raw ``docker run`` of the same image measured in the
same run, and each supervised process's resident memory (VmRSS of the pid supervisord reports, plus its
children: gunicorn's and celery's workers) when the load starts, after a warm-up minute, every minute
and at the end. Its last line is one JSON object with the reliability issue's figures ``minutes``,
``requests``, ``failed_requests`` (transport errors and 4xx/5xx answers), ``server_errors`` (5xx),
``process_restarts`` and ``unplanned_exits`` (the supervisor's ``process.restarted`` / ``process.exited``
events), ``max_replace_s`` and ``kills_within_2s`` of ``kills``; the memory growth of the worker, watcher
and web processes (``rss_growth_pct``, from the warm-up to the end; ``rss`` has every process, with the
growth from the very start too); and ``targets``, each target and whether this run met it: 0 failed
requests, 0 server errors, 0 unplanned exits, every kill replaced within 2 s, worker/watcher/web
memory growth at most 10 %. Every loop is bounded by the deadline; only 127.0.0.1 is called.

Python's ``requests`` keeps connections alive and does not retry a request the server reset, so a
connection the web server closes under a request shows here as a failed request (gunicorn.conf.py says
why the keep-alive timeout is longer than any idle time of these clients).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xmlrpc.client
from collections import Counter
from pathlib import Path
from typing import Any

import docker as docker_sdk
import requests

ROOT = Path(__file__).resolve().parent.parent
DEMO_IMAGE = "orchestrator-demo:latest"
CHURN_IMAGE = "orchestrator-bench/soak-churn:latest"  # a tag of the demo image, removed at the end
SMALL = {"cpu_limit": "0.01", "memory_limit": "16m"}
PAGES = ["/", "/deployments/", "/console/events/", "/console/health/"]
# What an open dashboard and deployments page poll every 2 s (HTMX partials).
PARTIALS = ["/partials/deployments/", "/partials/events/", "/partials/host/", "/deployments/rows/"]
API_READS = ["/containers", "/health/detailed", "/api/deployments/"]
WARMUP_S = 60.0
REPLACE_TARGET_S = 2.0
RSS_TARGET_PCT = 10.0
# The processes issue 13 names for the memory target; the JSON has every supervised process under "rss".
RSS_WATCHED = ("worker", "watcher", "web")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


class Stack:
    """scripts/run.sh in its own var dir and port: the supervised embedded stack."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="orchestrator-soak-"))
        self.var = self.base / "var"
        self.port = free_port()
        self.instance = f"soak-{uuid.uuid4().hex[:6]}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        self.env.update(
            ORCHESTRATOR_VAR_DIR=str(self.var),
            ORCHESTRATOR_PORT=str(self.port),
            ORCHESTRATOR_WATCH_PORT=str(free_port()),
            ORCHESTRATOR_INSTANCE=self.instance,
            PYTHONUNBUFFERED="1",
        )
        self.log = self.base / "run.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 300
        while "run.sh: ready:" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not become ready; see {self.log}")
            time.sleep(0.5)
        match = re.search(r"API token:\s+(\w+)", self.log.read_text())
        assert match
        self.token = match.group(1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def supervisor(self) -> Any:
        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.var}/supervisor.sock")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def pids(self) -> dict[str, int]:
        return {info["name"]: info["pid"] for info in self.supervisor().getAllProcessInfo()}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Ctrl-C: supervisord stops every program, then exits
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        ids = docker("ps", "-aq", "--filter", f"label=orchestrator.instance={self.instance}").split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        # Its deployments' networks too: each holds one of the engine's ~30 address pools, and soaks that
        # left theirs behind made every later network creation on the machine fail.
        networks = docker("network", "ls", "-q", "--filter", f"label=orchestrator.instance={self.instance}").split()
        if networks:
            subprocess.run(["docker", "network", "rm", *networks], capture_output=True)


def check_network_pools() -> None:
    """Every deployment gets its own bridge network; an engine whose address pools are all taken (by
    networks other runs left behind) fails every start. Say so before the soak, not as its failures."""
    name = f"orchestrator-soak-preflight-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["docker", "network", "create", name], capture_output=True, text=True)
    if made.returncode != 0:
        count = len(docker("network", "ls", "-q").split())
        sys.exit(
            f"soak: the engine cannot create a network ({made.stderr.strip()}); {count} networks exist. "
            "Remove the unused ones (docker network ls; docker network rm ...) and run it again."
        )
    docker("network", "rm", name)


def tree_rss_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants (gunicorn's and celery's children too)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class Load:
    """The mixed load: counters shared by the client threads."""

    def __init__(self, stack: Stack, deadline: float) -> None:
        self.stack = stack
        self.deadline = deadline
        self.lock = threading.Lock()
        self.requests = 0
        self.failed: Counter[str] = Counter()
        self.server_errors = 0
        self.replace_s: list[float] = []
        self.errors: list[str] = []

    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {self.stack.token}"
        return session

    def call(self, session: requests.Session, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        try:
            response = session.request(method, self.stack.url(path), timeout=60, **kwargs)
        except requests.RequestException as exc:
            self._count(None, f"{method} {path}: {exc.__class__.__name__}: {exc}")
            return None
        detail = " ".join(response.text[:300].split())
        self._count(response.status_code, f"{method} {path}: {response.status_code} {detail}")
        if response.status_code >= 500:  # the whole answer, for whoever explains it afterwards
            with self.lock, (self.stack.base / "server-errors.log").open("a") as log:
                log.write(f"{time.strftime('%H:%M:%S')} {method} {path}: {response.status_code} {response.text}\n")
        return response

    def _count(self, status: int | None, what: str) -> None:
        with self.lock:
            self.requests += 1
            if status is None or status >= 400:
                self.failed[what.split(":")[0]] += 1
                if len(self.errors) < 20:
                    self.errors.append(what)
            if status is not None and status >= 500:
                self.server_errors += 1

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def pause(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    # --- the clients ---------------------------------------------------------------------------

    def console(self) -> None:
        """A logged-in browser: the console's pages and the API's reads, about one a second."""
        browser = requests.Session()
        browser.get(self.stack.url("/accounts/login/"), timeout=60)
        password = (self.stack.var / "admin-password").read_text().strip()
        self.call(
            browser,
            "POST",
            "/accounts/login/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": self.stack.url("/accounts/login/")},
        )
        api = self.session()
        while self.running():
            for path in PAGES:
                self.call(browser, "GET", path)
                self.pause(0.5)
            for path in PARTIALS:
                self.call(browser, "GET", path, headers={"HX-Request": "true"})
                self.pause(0.5)
            for path in API_READS:
                self.call(api, "GET", path)
                self.pause(0.5)

    def churn(self) -> None:
        """Seed starts of count 1 until 3 run, then a seed stop of the image; again."""
        api = self.session()
        started = 0
        while self.running():
            if started < 3:
                self.call(api, "POST", f"/containers/{CHURN_IMAGE}/start", json={"count": 1, "resources": SMALL})
                started += 1
            else:
                self.call(api, "POST", f"/containers/{CHURN_IMAGE}/stop", json={})
                started = 0
            self.pause(3.0)

    def scaler(self, deployment_id: int) -> None:
        api = self.session()
        while self.running():
            self.call(api, "POST", f"/api/deployments/{deployment_id}/scale/", json={"replicas": random.randint(0, 3)})
            self.pause(5.0)

    def killer(self, deployment_id: int, replicas: int) -> None:
        """Kill one replica from outside every 15 s; time until ``replicas`` run again without it."""
        client = docker_sdk.from_env()
        filters = {
            "label": [f"orchestrator.instance={self.stack.instance}", f"orchestrator.deployment={deployment_id}"],
            "status": "running",
        }

        def running() -> list[str]:
            return [c["Id"] for c in client.api.containers(filters=filters)]

        while self.running():
            self.pause(15.0)
            alive = running()
            if len(alive) < replicas or not self.running():
                continue
            victim = random.choice(alive)
            # Timed from the moment the engine has killed it, polled every 10 ms through the SDK, as
            # bench/scale.py does: a docker CLI process per poll would add its own start-up to every figure.
            client.api.kill(victim)
            killed = time.monotonic()
            while time.monotonic() - killed < 60:
                now = running()
                if len(now) >= replicas and victim not in now:
                    with self.lock:
                        self.replace_s.append(time.monotonic() - killed)
                    break
                time.sleep(0.01)
            else:
                with self.lock:
                    self.replace_s.append(float("inf"))
                    self.errors.append(f"kill of {victim[:12]} not replaced within 60 s")


def baseline_start_s(instance: str) -> float:
    """A raw ``docker run -d`` of the demo image through the SDK (create and start, same limits): how long
    the engine itself takes to start one; the median of three."""
    client = docker_sdk.from_env()
    times = []
    for _ in range(3):
        started = time.monotonic()
        container = client.containers.run(
            DEMO_IMAGE, detach=True, labels={"orchestrator.instance": instance}, nano_cpus=10_000_000, mem_limit="16m"
        )
        times.append(time.monotonic() - started)
        container.remove(force=True)
    return statistics.median(times)


def rss_table(stack: Stack) -> dict[str, int]:
    return {name: tree_rss_kb(pid) for name, pid in stack.pids().items() if pid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the load runs (default 30)")
    args = parser.parse_args()

    check_network_pools()
    stack = Stack()
    try:
        print(f"starting the stack (scripts/run.sh) in {stack.var} on 127.0.0.1:{stack.port}", flush=True)
        stack.start()
        # Only now: on a fresh machine the stack's bootstrap is what builds the demo image.
        docker("tag", DEMO_IMAGE, CHURN_IMAGE)
        api = requests.Session()
        api.headers["Authorization"] = f"Token {stack.token}"
        api.get(stack.url("/images"), timeout=60)  # mirrors the engine's images, the churn tag among them

        def deployment(name: str, replicas: int) -> int:
            body = {"name": name, "image": DEMO_IMAGE, "replicas": replicas, **SMALL}
            response = api.post(stack.url("/api/deployments/"), json=body, timeout=60)
            response.raise_for_status()
            return int(response.json()["id"])

        steady = deployment("soak-steady", 2)
        scaled = deployment("soak-scaled", 1)
        baseline = baseline_start_s(stack.instance)
        pids_before = stack.pids()

        load = Load(stack, time.monotonic() + args.minutes * 60)
        clients = [
            threading.Thread(target=load.console, daemon=True),
            threading.Thread(target=load.console, daemon=True),
            threading.Thread(target=load.churn, daemon=True),
            threading.Thread(target=load.scaler, args=(scaled,), daemon=True),
            threading.Thread(target=load.killer, args=(steady, 2), daemon=True),
        ]
        rss_ready = rss_table(stack)
        started = time.monotonic()
        for client in clients:
            client.start()

        time.sleep(min(WARMUP_S, args.minutes * 60 / 2))
        rss_start = rss_table(stack)
        next_report = time.monotonic() + 60
        while any(client.is_alive() for client in clients):
            time.sleep(1)
            if time.monotonic() >= next_report:
                next_report += 60
                now_rss = rss_table(stack)
                memory = ", ".join(f"{name} {now_rss.get(name, 0) / 1024:.1f} MB" for name in RSS_WATCHED)
                print(
                    f"  {(time.monotonic() - started) / 60:4.1f} min: {load.requests} requests, "
                    f"{sum(load.failed.values())} failed, {load.server_errors} server errors, "
                    f"{len(load.replace_s)} kills, max replace "
                    f"{max(load.replace_s, default=0):.2f} s; {memory}",
                    flush=True,
                )
        rss_end = rss_table(stack)
        pids_after = stack.pids()

        def count(kind: str) -> int:
            return int(api.get(stack.url(f"/api/events/?kind={kind}"), timeout=60).json()["count"])

        restarts, exits = count("process.restarted"), count("process.exited")
    finally:
        stack.stop()
        subprocess.run(["docker", "rmi", CHURN_IMAGE], capture_output=True)

    minutes = round((time.monotonic() - started) / 60, 1)
    replace = load.replace_s
    max_replace = max(replace, default=0.0)
    print(f"\nsoak of the embedded stack: {minutes} min, logs in {stack.base}")
    print(
        f"requests: {load.requests}, failed: {sum(load.failed.values())}, server errors: {load.server_errors}"
        + (f" {dict(load.failed)}" if load.failed else "")
    )
    for error in load.errors:
        print(f"  {error}")
    if load.server_errors:
        print(f"  (the whole answers: {stack.base / 'server-errors.log'})")
    print(f"process restarts: {restarts}, unplanned exits: {exits}")
    changed = {name: (pids_before.get(name), pid) for name, pid in pids_after.items() if pids_before.get(name) != pid}
    print(f"processes whose pid changed: {changed or 'none'}")
    within = sum(r <= REPLACE_TARGET_S for r in replace)
    median = statistics.median(replace) if replace else 0.0
    if replace:
        print(
            f"kills from outside: {len(replace)}; replaced in median {statistics.median(replace):.2f} s, "
            f"max {max_replace:.2f} s; within {REPLACE_TARGET_S:g} s: {within}/{len(replace)}"
        )
    print(
        f"baseline: a raw docker run -d of the demo image {baseline:.2f} s; "
        f"max replace / baseline = {max_replace / baseline:.1f}x"
    )
    print(
        f"resident memory (process tree): when the load started -> after the {WARMUP_S:g} s warm-up -> at the end"
        f" (growth from the warm-up; from the start); target for {', '.join(RSS_WATCHED)}: "
        f"at most {RSS_TARGET_PCT:g} %"
    )

    def growth(before: int, after: int) -> float:
        return round((after - before) / before * 100, 1) if before else 0.0

    rss = {}
    for name in sorted(rss_end):
        ready, before, after = rss_ready.get(name, 0), rss_start.get(name, 0), rss_end[name]
        rss[name] = {
            "ready_mb": round(ready / 1024, 1),
            "start_mb": round(before / 1024, 1),
            "end_mb": round(after / 1024, 1),
            "growth_pct": growth(before, after),
            "growth_from_ready_pct": growth(ready, after),
        }
        print(
            f"  {name:15s} {ready / 1024:8.1f} MB -> {before / 1024:8.1f} MB -> {after / 1024:8.1f} MB"
            f"  ({growth(before, after):+.1f} %; {growth(ready, after):+.1f} %)"
        )
    rss_growth = {name: rss[name]["growth_pct"] for name in RSS_WATCHED if name in rss}
    failed = sum(load.failed.values())
    targets = {
        "failed_requests_0": failed == 0,
        "server_errors_0": load.server_errors == 0,
        "unplanned_exits_0": exits == 0,
        "every_kill_replaced_within_2s": bool(replace) and within == len(replace),
        "rss_growth_at_most_10pct": bool(rss_growth) and max(rss_growth.values()) <= RSS_TARGET_PCT,
    }
    print("targets: " + ", ".join(f"{name} {'met' if met else 'MISSED'}" for name, met in targets.items()))
    print(
        json.dumps(
            {
                "minutes": minutes,
                "requests": load.requests,
                "failed_requests": failed,
                "server_errors": load.server_errors,
                "process_restarts": restarts,
                "unplanned_exits": exits,
                # null if a kill was not replaced within 60 s (kills_not_replaced): JSON has no infinity
                "max_replace_s": round(max_replace, 3) if math.isfinite(max_replace) else None,
                "kills_not_replaced": sum(not math.isfinite(r) for r in replace),
                "kills": len(replace),
                "kills_within_2s": within,
                "median_replace_s": round(median, 3) if replace and math.isfinite(median) else None,
                "baseline_docker_run_s": round(baseline, 3),
                "max_replace_vs_baseline": round(max_replace / baseline, 2)
                if baseline and math.isfinite(max_replace)
                else None,
                "failures": dict(load.failed),
                "rss_growth_pct": rss_growth,
                "rss": rss,
                "targets": targets,
            }
        )
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
