"""Benchmark: converge 0 -> 20 replicas through the orchestrator vs. 20 raw SDK starts; then self-healing.

One run. Prints each figure, and as its last line one JSON object with
baseline_s, orchestrator_s, ratio, replace_median_s, replace_max_s.
Run: .venv/bin/python bench/scale.py   (needs a running Docker engine; make bench)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker  # the baseline talks to the engine directly, as a user without us would

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import Stack  # noqa: E402

REPLICAS = 20
KILLS = 10
THREADS = 8
IMAGE = "orchestrator-demo:latest"
CPU = 0.05
MEMORY = 16 * 1024 * 1024


def running(client: docker.DockerClient, labels: list[str]) -> list[dict]:
    return client.api.containers(filters={"label": labels, "status": "running"})


def baseline(client: docker.DockerClient) -> float:
    """20 containers started with the SDK from 8 threads, with the same limits and port publishing."""
    key, value = "orchestrator-bench-baseline", uuid.uuid4().hex[:8]

    def start(_: int) -> str:
        container = client.containers.run(
            IMAGE,
            detach=True,
            labels={key: value},
            nano_cpus=int(CPU * 1e9),
            mem_limit=MEMORY,
            ports={"8080/tcp": ("127.0.0.1", None)},
        )
        return container.id

    began = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(start, range(REPLICAS)))
    elapsed = time.perf_counter() - began
    assert len(running(client, [f"{key}={value}"])) == REPLICAS
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda cid: client.api.remove_container(cid, force=True), ids))
    return elapsed


def wait_running(
    client: docker.DockerClient, labels: list[str], count: int, exclude: set[str], timeout: float = 60
) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        now = {c["Id"] for c in running(client, labels)}
        if len(now) == count and not (now & exclude):
            return time.perf_counter() - began
        time.sleep(0.01)
    raise TimeoutError(f"{count} running containers not reached in {timeout}s")


def main() -> None:
    client = docker.from_env()
    stack = Stack(CRASH_WINDOW_S="2").start()
    try:
        deployment = stack.request(
            "POST",
            "/api/deployments/",
            {
                "name": "bench-scale",
                "image": IMAGE,
                "replicas": 0,
                "cpu_limit": str(CPU),
                "memory_limit": "16m",
                "container_port": 8080,
            },
        )
        labels = [f"orchestrator.deployment={deployment['id']}", f"orchestrator.instance={stack.instance}"]

        baseline(client)  # warm-up: the first starts after an engine restart pay for caches; not counted
        base_s = baseline(client)
        print(f"baseline: {REPLICAS} containers via the Docker SDK in {THREADS} threads: {base_s:.2f} s")

        began = time.perf_counter()
        stack.request("POST", f"/api/deployments/{deployment['id']}/scale/", {"replicas": REPLICAS})
        wait_running(client, labels, REPLICAS, set())
        orch_s = time.perf_counter() - began
        print(f"orchestrator: API call to {REPLICAS} running: {orch_s:.2f} s (ratio {orch_s / base_s:.2f})")

        time.sleep(2.5)  # older than the crash window, so a kill is a death, not a crash loop
        originals = [c["Id"] for c in running(client, labels)]
        times = []
        for victim in originals[:KILLS]:
            client.api.kill(victim)
            began = time.perf_counter()
            wait_running(client, labels, REPLICAS, {victim})
            times.append(time.perf_counter() - began)
        median, worst = statistics.median(times), max(times)
        print(f"replacement after kill, {KILLS} kills: median {median:.3f} s, max {worst:.3f} s")
    finally:
        stack.stop()

    print(
        json.dumps(
            {
                "baseline_s": round(base_s, 3),
                "orchestrator_s": round(orch_s, 3),
                "ratio": round(orch_s / base_s, 3),
                "replace_median_s": round(median, 3),
                "replace_max_s": round(worst, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
