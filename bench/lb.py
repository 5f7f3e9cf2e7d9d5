"""Benchmark: the load balancer and discovery, on the embedded default, one run.

- spread: 3 replicas, 3,000 requests through HAProxy; the largest deviation of a replica's share
  from an even split (baseline: the same requests straight to one replica's published port).
- rollout: a spec change of 5 replicas while closed-loop clients request through the LB.
- kill: one of 3 replicas killed under load; the % of requests that failed.
- discovery: a service with 1,000 endpoints, 50 concurrent clients doing conditional GETs on
  the watch server; p99 and throughput against a trivial view (/health) on the same server.
- watch: 500 blocking queries held while one change is made; how soon each is answered; and
  the console dashboard's p99 while they wait, over its p99 idle.

Prints each figure; the last line is one JSON object.
Run: .venv/bin/python bench/lb.py   (needs a running Docker engine and haproxy; make bench)
     .venv/bin/python bench/lb.py --only discovery,watch   (some parts only: spread, kill, rollout, discovery, watch)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import PYTHON, ROOT, Stack, free_port  # noqa: E402

SPREAD_REQUESTS = 3000
LOAD_THREADS = 4
ROLLOUT_REPLICAS = 5
ENDPOINTS = 1000
DISCOVERY_CLIENTS = 50
DISCOVERY_REQUESTS = 100  # per client
WATCHERS = 500
CONSOLE_REQUESTS = 60
MAX_LOAD_S = 60.0  # every load loop stops by then whatever happens


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class Client:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port, reopened after an error."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = headers or {}
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            self.conn.request("GET", path, headers={**self.headers, **(headers or {})})
            response = self.conn.getresponse()
            body = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, body
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def served_by(body: bytes) -> str:
    text = body.decode(errors="replace")
    return text.split("Hello from ", 1)[1].split("<", 1)[0] if "Hello from " in text else "?"


class Load:
    """Closed-loop clients requesting ``port`` until stopped (or MAX_LOAD_S); counts outcomes."""

    def __init__(self, port: int, threads: int = LOAD_THREADS) -> None:
        self.port = port
        self.ok = 0
        self.failed = 0
        self.by = collections.Counter[str]()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        client = Client(self.port)
        deadline = time.monotonic() + MAX_LOAD_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = client.get("/")
                good = status == 200
            except (OSError, http.client.HTTPException):
                good, body = False, b""
            with self._lock:
                if good:
                    self.ok += 1
                    self.by[served_by(body)] += 1
                else:
                    self.failed += 1
        client.close()

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    @property
    def total(self) -> int:
        return self.ok + self.failed


def count(port: int, requests: int, threads: int = LOAD_THREADS) -> tuple[collections.Counter[str], int, float]:
    """Exactly ``requests`` requests from ``threads`` closed-loop clients: who served them, failures, seconds."""
    by = collections.Counter[str]()
    failed = 0
    lock = threading.Lock()
    left = iter(range(requests))

    def run() -> None:
        nonlocal failed
        client = Client(port)
        for _ in left:
            try:
                status, body = client.get("/")
                name = served_by(body) if status == 200 else None
            except (OSError, http.client.HTTPException):
                name = None
            with lock:
                if name is None:
                    failed += 1
                else:
                    by[name] += 1
        client.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return by, failed, time.perf_counter() - began


class Bench:
    def __init__(self) -> None:
        base = random.randrange(30000, 31800, 100)
        self.haproxy_dir = tempfile.mkdtemp(prefix="lb-bench-", dir="/tmp")
        self.stack = Stack(
            HAPROXY_DIR=self.haproxy_dir,
            LB_PORT_MIN=str(base),
            LB_PORT_MAX=str(base + 99),
            LB_ENABLED="1",
            RECONCILE_INTERVAL_S="2",
        )
        self.watch_port = free_port()
        self.watch: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.stack.start()
        log = (self.stack.var_dir / "uvicorn.log").open("ab")
        argv = [PYTHON, "-m", "uvicorn", "registry.asgi:application", "--host", "127.0.0.1"]
        argv += ["--port", str(self.watch_port), "--no-access-log", "--backlog", "4096"]
        self.watch = subprocess.Popen(argv, cwd=ROOT, env=self.stack.env, stdout=log, stderr=log)
        self._wait(lambda: Client(self.watch_port).get("/health")[0] == 200, "the watch server")
        # Beat runs the reconcile and load balancer ticks.
        self.stack.spawn(
            "beat",
            PYTHON,
            "-m",
            "celery",
            "-A",
            "orchestrator_site",
            "beat",
            "-l",
            "warning",
            "-s",
            str(self.stack.var_dir / "celerybeat-schedule"),
        )

    def stop(self) -> None:
        if self.watch is not None:
            self.watch.terminate()
            self.watch.wait(timeout=15)
        self.stack.stop()  # and the HAProxy the worker started in HAPROXY_DIR

    def _wait(self, predicate: Any, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except (OSError, http.client.HTTPException, KeyError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}; logs in {self.stack.var_dir}")

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return self.stack.request(method, path, body)

    def deploy(self, name: str, replicas: int) -> tuple[int, int]:
        """A deployment of the demo image on port 8080; its id and LB port once every replica answers."""
        created = self.api(
            "POST",
            "/api/deployments/",
            {
                "name": name,
                "image": "orchestrator-demo:latest",
                "replicas": replicas,
                "cpu_limit": "0.1",
                "memory_limit": "32m",
                "container_port": 8080,
            },
        )
        self._wait(lambda: self.api("GET", f"/api/services/{name}/")["lb_url"], f"service {name}")
        port = int(self.api("GET", f"/api/services/{name}/")["lb_url"].rsplit(":", 1)[1].strip("/"))
        self.until_serving(port, replicas)
        return created["id"], port

    def until_serving(self, port: int, replicas: int) -> set[str]:
        seen: set[str] = set()

        def all_serve() -> bool:
            by, _, _ = count(port, 6 * replicas, threads=2)
            seen.clear()
            seen.update(name for name in by if name != "?")
            return len(seen) == replicas

        self._wait(all_serve, f"{replicas} replicas serving on {port}", timeout=90)
        return seen

    def containers(self, deployment_id: int) -> list[dict[str, Any]]:
        return self.api("GET", f"/api/containers/?deployment={deployment_id}")["results"]

    # --- the figures ------------------------------------------------------------------------------

    def spread(self) -> dict[str, Any]:
        deployment, port = self.deploy("lb-spread", 3)
        by, failed, took = count(port, SPREAD_REQUESTS)
        even = SPREAD_REQUESTS / 3
        dev = max(abs(by.get(name, 0) - even) / even * 100 for name in list(by)[:3] or ["?"])
        direct_port = self.containers(deployment)[0]["host_port"]
        _, _, direct_took = count(direct_port, SPREAD_REQUESTS)
        print(f"spread: {dict(by)} failed {failed}; max deviation {dev:.1f}% of an even split")
        print(
            f"spread: {SPREAD_REQUESTS / took:.0f} req/s through HAProxy, {SPREAD_REQUESTS / direct_took:.0f} req/s "
            f"straight to one replica (ratio {direct_took / took:.2f})"
        )
        self.api("DELETE", f"/api/deployments/{deployment}/")
        return {
            "spread_max_dev_pct": round(dev, 1),
            "spread_failed": failed,
            "lb_rps": round(SPREAD_REQUESTS / took),
            "direct_rps": round(SPREAD_REQUESTS / direct_took),
            "lb_vs_direct_rps_ratio": round(direct_took / took, 2),
        }

    def rollout(self) -> dict[str, Any]:
        deployment, port = self.deploy("lb-rollout", ROLLOUT_REPLICAS)
        with Load(port) as load:
            time.sleep(1.0)
            self.api("PATCH", f"/api/deployments/{deployment}/", {"env": {"REVISION": "2"}})
            generation = self.api("GET", f"/api/deployments/{deployment}/")["generation"]

            def updated() -> bool:
                rows = self.containers(deployment)
                return len(rows) == ROLLOUT_REPLICAS and all(
                    r["generation"] == generation and r["status"] == "running" for r in rows
                )

            self._wait(updated, "the update to finish", timeout=90)
            time.sleep(2.0)  # traffic to the new containers as they come up
        print(
            f"rollout: {load.total} requests during a spec change of {ROLLOUT_REPLICAS} replicas, {load.failed} failed"
        )
        self.api("DELETE", f"/api/deployments/{deployment}/")
        return {"rollout_requests": load.total, "rollout_failed": load.failed}

    def kill(self) -> dict[str, Any]:
        deployment, port = self.deploy("lb-kill", 3)
        victim = self.containers(deployment)[0]["docker_id"]
        with Load(port) as load:
            time.sleep(2.0)
            subprocess.run(["docker", "kill", victim], capture_output=True, check=True)
            time.sleep(4.0)
        pct = 100.0 * load.failed / max(load.total, 1)
        print(f"kill: {load.total} requests while one of 3 replicas was killed, {load.failed} failed ({pct:.2f}%)")
        self.api("DELETE", f"/api/deployments/{deployment}/")
        return {"kill_requests": load.total, "kill_failed": load.failed, "kill_failed_pct": round(pct, 2)}

    def discovery(self) -> dict[str, Any]:
        self.stack.manage("shell", "-c", _REGISTER_MANY)
        auth = {"Authorization": f"Token {self.stack.token}"}
        first = Client(self.watch_port, auth)
        status, body = first.get("/api/services/disco/?status=any")
        assert status == 200 and len(json.loads(body)["endpoints"]) == ENDPOINTS, body[:200]
        etag = json.loads(body)["index"]
        inm = {"If-None-Match": f'"svc-{etag}-any"'}

        def run(path: str, headers: dict[str, str]) -> tuple[list[float], float, collections.Counter[int]]:
            return asyncio.run(self._hammer(path, {**auth, **headers}))

        trivial, trivial_rps, _ = run("/health", {})
        conditional, rps, statuses = run("/api/services/disco/?status=any", inm)
        print(
            f"discovery: {ENDPOINTS} endpoints, {DISCOVERY_CLIENTS} clients x {DISCOVERY_REQUESTS} conditional GETs: "
            f"{dict(statuses)}, p99 {p99(conditional):.1f} ms, {rps:.0f} req/s; trivial view p99 "
            f"{p99(trivial):.1f} ms, {trivial_rps:.0f} req/s (ratio {rps / trivial_rps:.2f})"
        )
        return {
            "discovery_p99_ms": round(p99(conditional), 1),
            "discovery_rps": round(rps),
            "trivial_rps": round(trivial_rps),
            "discovery_rps_ratio": round(rps / trivial_rps, 2),
            "discovery_304s": statuses.get(304, 0),
        }

    async def _hammer(self, path: str, headers: dict[str, str]) -> tuple[list[float], float, collections.Counter[int]]:
        """DISCOVERY_CLIENTS keep-alive connections, each doing DISCOVERY_REQUESTS GETs in a closed loop
        (asyncio, so the client side costs little of the two CPUs the server also needs)."""
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()
        latencies: list[float] = []
        statuses = collections.Counter[int]()

        async def client() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.watch_port)
            for _ in range(DISCOVERY_REQUESTS):
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                latencies.append((time.perf_counter() - began) * 1000)
                statuses[int(head.split(b" ", 2)[1])] += 1
            writer.close()

        began = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(DISCOVERY_CLIENTS))), timeout=MAX_LOAD_S)
        return latencies, len(latencies) / (time.perf_counter() - began), statuses

    def console_p99(self, cookie: str) -> float:
        client = Client(self.stack.port, {"Cookie": cookie})
        latencies = []
        for _ in range(CONSOLE_REQUESTS):
            began = time.perf_counter()
            status, _ = client.get("/")
            assert status == 200, status
            latencies.append((time.perf_counter() - began) * 1000)
        client.close()
        return p99(latencies)

    def watch_figures(self) -> dict[str, Any]:
        cookie = self.stack.manage("shell", "-c", _SESSION).strip().splitlines()[-1]
        self.api(
            "POST", "/registry/endpoints", {"service": "watched", "host": "127.0.0.1", "port": 9, "status": "healthy"}
        )
        index = self.api("GET", "/api/services/watched/")["index"]
        idle = self.console_p99(cookie)
        result = asyncio.run(self._watchers(index, cookie, idle))
        return result

    async def _watchers(self, index: int, cookie: str, idle_p99: float) -> dict[str, Any]:
        request = (
            f"GET /api/services/watched/?index={index}&wait=60s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {self.stack.token}\r\nConnection: close\r\n\r\n"
        ).encode()
        answered: list[float] = []

        async def watcher() -> int:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.watch_port)
            writer.write(request)
            await writer.drain()
            raw = await reader.read()
            answered.append(time.time())
            writer.close()
            return int(raw.split(b" ", 2)[1]) if raw else 0

        tasks = [asyncio.create_task(watcher()) for _ in range(WATCHERS)]
        await asyncio.sleep(3.0)  # every watcher connected and waiting
        assert not answered, f"{len(answered)} watchers answered before the change"
        loop = asyncio.get_running_loop()
        under = await loop.run_in_executor(None, self.console_p99, cookie)
        # The change is committed by another process, which prints the wall-clock time of its commit.
        output = await loop.run_in_executor(None, self.stack.manage, "shell", "-c", _CHANGE)
        changed_at = float(output.strip().splitlines()[-1])
        statuses = collections.Counter(await asyncio.wait_for(asyncio.gather(*tasks), timeout=30))
        notify = [(t - changed_at) * 1000 for t in answered]
        print(
            f"watch: {WATCHERS} blocking queries held; after one change {dict(statuses)}, answered within "
            f"p50 {statistics.median(notify):.0f} ms, p99 {p99(notify):.0f} ms, max {max(notify):.0f} ms of it"
        )
        print(
            f"console: dashboard p99 {idle_p99:.1f} ms idle, {under:.1f} ms while {WATCHERS} watchers wait "
            f"(ratio {under / idle_p99:.2f})"
        )
        return {
            "watchers": WATCHERS,
            "watchers_answered": statuses.get(200, 0),
            "watch_notify_p99_ms": round(p99(notify), 1),
            "console_p99_idle_ms": round(idle_p99, 1),
            "console_p99_under_watch_ms": round(under, 1),
            "console_p99_ratio_under_watch": round(under / idle_p99, 2),
        }


_REGISTER_MANY = f"""
from registry.models import ServiceEndpoint
from registry import services
ServiceEndpoint.objects.bulk_create(
    ServiceEndpoint(service="disco", host="127.0.0.1", port=40000 + i, status="healthy") for i in range({ENDPOINTS})
)
services.touch("disco")
"""

_CHANGE = """
import time
from django.db import transaction
from registry import endpoints
committed = []
with transaction.atomic():
    # Registered first, so it runs first after the commit (before the load balancer sync is queued).
    transaction.on_commit(lambda: committed.append(time.time()))
    endpoints.register(service="watched", host="127.0.0.1", port=10, actor="bench", status="healthy")
print(committed[0])
"""

_SESSION = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
user = get_user_model().objects.get(username="bench")
user.is_staff = True
user.save()
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.save()
print("sessionid=" + session.session_key)
"""


PARTS = ("spread", "kill", "rollout", "discovery", "watch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts to run (of {', '.join(PARTS)})")
    parts = [p.strip() for p in parser.parse_args().only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"--only: unknown part(s) {', '.join(unknown)}; choose among {', '.join(PARTS)}")
    bench = Bench()
    figures: dict[str, Any] = {}
    try:
        bench.start()
        for part in PARTS:
            if part in parts:
                figures.update(getattr(bench, "watch_figures" if part == "watch" else part)())
    finally:
        bench.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
