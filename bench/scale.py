"""Benchmark: converge 0 -> N replicas through the orchestrator vs. N raw SDK starts; then self-healing.

One run. ``--replicas N`` (default 20) sizes the deployment under test; ``--background N`` (default 0)
keeps N other managed containers running during the kill test, spread over deployments of 5, so a
death's replacement is measured on a busy fleet. Prints each figure, and as its last line one JSON
object with replicas, background, baseline_s, orchestrator_s, ratio, replace_median_s, replace_max_s,
replace_after_die_median_s (from the engine's die event to the replacement's start), engine_floor_s (create,
start and limit on a network of its own, as a replacement is, timed to its start event as a replacement is),
engine_floor_bridge_s (the same on Docker's default bridge), replace_ratio_to_floor.
Run: .venv/bin/python bench/scale.py [--replicas N] [--background N]   (needs a running Docker engine)
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker  # the baseline talks to the engine directly, as a user without us would

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.stack import Stack  # noqa: E402

KILLS = 10
THREADS = 8
IMAGE = "orchestrator-demo:latest"
# Light containers, so admission lets hundreds in on a 2-core machine.
CPU = 0.01
MEMORY = 16 * 1024 * 1024
BACKGROUND_EACH = 5  # background containers per deployment


def running(client: docker.DockerClient, labels: list[str]) -> list[dict]:
    return client.api.containers(filters={"label": labels, "status": "running"})


def baseline(client: docker.DockerClient, replicas: int) -> float:
    """``replicas`` containers started with the SDK from 8 threads, with the same limits and port publishing."""
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
        ids = list(pool.map(start, range(replicas)))
    elapsed = time.perf_counter() - began
    assert len(running(client, [f"{key}={value}"])) == replicas
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


def engine_floor(client: docker.DockerClient) -> tuple[list[float], list[float]]:
    """What one replacement costs the engine alone, with the same fleet running: create and start one container
    with the SDK and limit it (as the orchestrator does: the CPU quota set right after the start), timed from
    the create call to the container's start event, where a replacement's time stops too; ``KILLS`` times on a
    user-defined network, as a replacement joins its deployment's own network; and the same on Docker's
    default bridge, for comparison (a user network's attach costs the engine ~60 ms more). No healer can
    replace a container faster than the first."""
    key, value = "orchestrator-bench-baseline", uuid.uuid4().hex[:8]
    network = client.networks.create(f"orch-bench-floor-{value}", labels={key: value})
    events = follow_events(client, [f"{key}={value}"])
    try:
        return [start_one(client, events, key, value, network.name) for _ in range(KILLS)], [
            start_one(client, events, key, value, "bridge") for _ in range(KILLS)
        ]
    finally:
        network.remove()


def start_one(
    client: docker.DockerClient, events: queue.Queue[tuple[float, str, str]], key: str, value: str, network: str
) -> float:
    began = time.perf_counter()
    created = client.api.create_container(
        IMAGE,
        labels={key: value},
        ports=[8080],
        host_config=client.api.create_host_config(
            mem_limit=MEMORY, port_bindings={"8080/tcp": ("127.0.0.1", None)}, network_mode=network
        ),
    )
    client.api.start(created["Id"])
    client.api.update_container(created["Id"], cpu_period=100_000, cpu_quota=int(CPU * 100_000))
    while True:
        at, action, container = events.get(timeout=30)
        if action == "start" and container == created["Id"]:
            break
    client.api.remove_container(created["Id"], force=True)
    return at - began


def follow_events(client: docker.DockerClient, labels: list[str]) -> queue.Queue[tuple[float, str, str]]:
    """A queue of (perf_counter when seen, action, container id) for each start and die event of containers
    with ``labels``."""
    seen: queue.Queue[tuple[float, str, str]] = queue.Queue()
    stream = client.events(decode=True, filters={"type": "container", "event": ["start", "die"], "label": labels})

    def pump() -> None:
        for event in stream:
            seen.put((time.perf_counter(), event["Action"], event["id"]))

    threading.Thread(target=pump, daemon=True).start()
    return seen


def settle(stack: Stack, service: str, count: int, timeout: float = 60.0) -> bool:
    """Wait until the service has ``count`` healthy endpoints: its containers are ready and published, so the
    converge that started them is over. False if that did not happen within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = stack.request("GET", f"/api/endpoints/?service={service}&status=healthy")
        if found.get("count") == count:
            return True
        time.sleep(0.5)
    return False


def create(stack: Stack, name: str, replicas: int) -> dict:
    return stack.request(
        "POST",
        "/api/deployments/",
        {
            "name": name,
            "image": IMAGE,
            "replicas": replicas,
            "cpu_limit": str(CPU),
            "memory_limit": "16m",
            "container_port": 8080,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=20, help="replicas of the deployment under test")
    parser.add_argument("--background", type=int, default=0, help="other managed containers kept running")
    args = parser.parse_args()
    replicas, background = args.replicas, args.background
    timeout = max(60.0, (replicas + background) * 1.0)

    client = docker.from_env()
    stack = Stack(CRASH_WINDOW_S="2").start()
    try:
        deployment = create(stack, "bench-scale", 0)
        labels = [f"orchestrator.deployment={deployment['id']}", f"orchestrator.instance={stack.instance}"]

        baseline(client, replicas)  # warm-up: the first starts after an engine restart pay for caches; not counted
        base_s = baseline(client, replicas)
        print(f"baseline: {replicas} containers via the Docker SDK in {THREADS} threads: {base_s:.2f} s")

        began = time.perf_counter()
        stack.request("POST", f"/api/deployments/{deployment['id']}/scale/", {"replicas": replicas})
        wait_running(client, labels, replicas, set(), timeout)
        orch_s = time.perf_counter() - began
        print(f"orchestrator: API call to {replicas} running: {orch_s:.2f} s (ratio {orch_s / base_s:.2f})")

        if background:
            began = time.perf_counter()
            for index in range(0, background, BACKGROUND_EACH):
                create(stack, f"bench-bg-{index // BACKGROUND_EACH:03d}", min(BACKGROUND_EACH, background - index))
            fleet = [f"orchestrator.instance={stack.instance}"]
            wait_running(client, fleet, replicas + background, set(), timeout)
            print(
                f"background: {background} more containers in {-(-background // BACKGROUND_EACH)} deployments "
                f"running in {time.perf_counter() - began:.1f} s"
            )

        # Older than the crash window (2 s), so a kill is a death, not a crash loop; and settled: the converge
        # that started them holds the deployment while they get ready and are published, and a kill inside
        # that time measures the scale-up's tail (seen: 17 s for the first kill at 100 under load), not healing.
        time.sleep(2.5)
        settled = settle(stack, "bench-scale", replicas)
        print(f"scale-up settled (every endpoint of bench-scale healthy): {settled}")
        originals = [c["Id"] for c in running(client, labels)]
        events = follow_events(client, labels)
        times, after_die = [], []
        for victim in originals[:KILLS]:
            client.api.kill(victim)
            began = time.perf_counter()
            # The replacement's start event says when it runs; polling the list instead would load the
            # engine with a 100-container list every few ms while it starts the replacement. The victim's die
            # event says when the engine reported the death: from then on the time is the orchestrator's.
            died = began
            while True:
                at, action, container = events.get(timeout=timeout)
                if action == "die" and container == victim:
                    died = at
                elif action == "start" and container != victim and container not in originals:
                    break
            times.append(at - began)
            after_die.append(at - died)
            wait_running(client, labels, replicas, {victim}, timeout)  # and the deployment is whole again
        median, worst = statistics.median(times), max(times)
        print(
            f"replacement after kill, {KILLS} kills, {replicas} replicas + {background} background: "
            f"median {median:.3f} s, max {worst:.3f} s; after the engine's die event: median "
            f"{statistics.median(after_die):.3f} s"
        )
        on_network, on_bridge = engine_floor(client)
        floor = statistics.median(on_network)
        print(f"engine floor, same fleet: create + start + limit of one container via the SDK, to its start event, "
              f"on a network of its own: median {floor:.3f} s (replacement {median / floor:.2f}x); "
              f"on the default bridge: {statistics.median(on_bridge):.3f} s")  # fmt: skip
    finally:
        stack.stop()

    print(
        json.dumps(
            {
                "replicas": replicas,
                "background": background,
                "baseline_s": round(base_s, 3),
                "orchestrator_s": round(orch_s, 3),
                "ratio": round(orch_s / base_s, 3),
                "replace_median_s": round(median, 3),
                "replace_max_s": round(worst, 3),
                "replace_after_die_median_s": round(statistics.median(after_die), 3),
                "engine_floor_s": round(floor, 3),
                "engine_floor_bridge_s": round(statistics.median(on_bridge), 3),
                "replace_ratio_to_floor": round(median / floor, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
