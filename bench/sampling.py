"""Benchmark: one sampling round for N containers vs `docker stats --no-stream` vs the SDK's stats in threads.

One run, in this process (no web stack): ``--containers N`` (default 50) demo containers (CPU 0.01,
16m) are started through the orchestrator's own reconciler under a throwaway instance label, with a
throwaway SQLite database in a temporary var dir (or whatever DATABASE_URL names). Then, for the same containers:

- the sampler's round (read every container's counters, classify, write snapshots and current
  health): the median of 5 rounds after a first one that creates the health rows;
- ``docker stats --no-stream`` (the CLI);
- the Docker SDK's ``stats(stream=False)``, one call per container, all in threads;
- the cost a container adds: the round's time over its containers, and of that the reading of its
  cgroup files alone;
- the sampler's CPU: rounds at the 5 s interval for 30 s, process CPU time over wall time.

Prints each figure and the ratios; the last line is one JSON object with containers, round_s,
per_container_ms, read_per_container_ms, docker_stats_s, sdk_stats_s, ratio_vs_docker_stats,
sampler_cpu_pct. Its containers are removed at the end.
Run: .venv/bin/python bench/sampling.py [--containers N]   (needs a running Docker engine; make bench)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR_DIR = Path(tempfile.mkdtemp(prefix="orchestrator-bench-sampling-"))
INSTANCE = f"bench-{uuid.uuid4().hex[:8]}"
os.environ["ORCHESTRATOR_VAR_DIR"] = str(VAR_DIR)
os.environ["ORCHESTRATOR_INSTANCE"] = INSTANCE
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")

import django  # noqa: E402

django.setup()

import docker  # noqa: E402  the baselines talk to the engine directly, as a user without us would
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from containers import instance_cleanup, reconcile  # noqa: E402
from containers.demo_image import ensure_demo_image  # noqa: E402
from containers.models import Container, Deployment  # noqa: E402
from health import sampler, sources  # noqa: E402
from health.models import ContainerHealth, HourRollup, MinuteRollup, Snapshot  # noqa: E402

ROUNDS = 5
INTERVAL_S = 5.0
CPU_WINDOW_S = 30.0


def timed(fn: object) -> float:
    began = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - began


def docker_stats(ids: list[str]) -> float:
    def run() -> None:
        subprocess.run(["docker", "stats", "--no-stream", *ids], check=True, capture_output=True)

    return timed(run)


def sdk_stats(client: docker.DockerClient, ids: list[str]) -> float:
    def run() -> None:
        with ThreadPoolExecutor(len(ids)) as pool:
            list(pool.map(lambda cid: client.api.stats(cid, stream=False), ids))

    return timed(run)


def engine_cpu_s() -> float | None:
    """dockerd's CPU time so far (its list call is part of a round's cost), if it runs on this machine."""
    try:
        pid = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (IndexError, OSError, ValueError):
        return None


def sampler_cpu() -> tuple[float, float | None]:
    """Rounds at the interval for the window: this process's CPU %, and dockerd's over the same window."""
    engine_before, cpu_before, began = engine_cpu_s(), time.process_time(), time.perf_counter()
    tick = began
    while tick - began < CPU_WINDOW_S:
        sampler.sample_round()
        tick += INTERVAL_S
        time.sleep(max(0.0, tick - time.perf_counter()))
    wall = time.perf_counter() - began
    ours = (time.process_time() - cpu_before) / wall * 100
    engine_after = engine_cpu_s()
    engine = (engine_after - engine_before) / wall * 100 if engine_before is not None and engine_after else None
    return ours, engine


def read_cost(ids: list[str]) -> float:
    """The median time to read every container's cgroup files once (the part of a round a container adds
    that no database write amortizes)."""
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        readings = sources.read(ids)
        times.append(time.perf_counter() - began)
        assert len(readings) == len(ids), f"{len(readings)} of {len(ids)} read"
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=50, help="demo containers to sample")
    containers = parser.parse_args().containers
    call_command("migrate", verbosity=0)
    image = ensure_demo_image(actor="bench")
    deployment = Deployment.objects.create(
        name=f"bench-sampling-{INSTANCE[-8:]}",
        image=image,
        replicas=containers,
        cpu_limit=Decimal("0.01"),
        memory_limit_bytes=16 * 1024 * 1024,
    )
    client = docker.from_env(max_pool_size=containers)
    try:
        began = time.perf_counter()
        reconcile.converge(deployment.pk)
        ids = list(
            Container.objects.filter(deployment=deployment, status="running").values_list("docker_id", flat=True)
        )
        assert len(ids) == containers, f"{len(ids)} of {containers} containers running"
        print(f"{containers} demo containers started through the reconciler in {time.perf_counter() - began:.1f} s")

        first = sampler.sample_round()
        print(f"first round (creates the health rows): {first.duration_s * 1000:.1f} ms, sources {first.sources}")
        times = []
        for _ in range(ROUNDS):
            time.sleep(0.5)
            result = sampler.sample_round()
            assert result.containers == containers and result.sources.get("cgroup") == containers, result
            times.append(result.duration_s)
        round_s = statistics.median(times)
        print(f"sampler round (read, classify, write), {containers} containers: {round_s * 1000:.1f} ms median "
              f"of {ROUNDS} ({', '.join(f'{t * 1000:.1f}' for t in times)} ms)")  # fmt: skip

        per_container_ms = round_s * 1000 / containers
        read_ms = read_cost(ids) * 1000 / containers
        print(
            f"cost a container adds: {per_container_ms:.3f} ms of a round "
            f"(of which {read_ms:.3f} ms reading its cgroup files)"
        )

        docker_s = docker_stats(ids)
        print(f"docker stats --no-stream, same containers: {docker_s:.2f} s (ratio {docker_s / round_s:.0f}x)")
        sdk_s = sdk_stats(client, ids)
        print(f"SDK stats(stream=False), {containers} threads: {sdk_s:.2f} s (ratio {sdk_s / round_s:.0f}x)")

        settings.HEALTH_SAMPLER_SOURCE = "api"
        fallback = sampler.sample_round()
        settings.HEALTH_SAMPLER_SOURCE = "auto"
        print(
            f"for reference, the sampler's remote-engine fallback (one-shot stats API, "
            f"{settings.HEALTH_STATS_API_THREADS} threads): {fallback.duration_s * 1000:.0f} ms"
        )

        cpu_pct, engine_pct = sampler_cpu()
        print(f"sampler CPU, a round every {INTERVAL_S:g} s for {CPU_WINDOW_S:g} s: {cpu_pct:.2f} % of one core")
        if engine_pct is not None:
            print(f"  (dockerd over the same window, its own background work included: {engine_pct:.2f} %)")
    finally:
        # Its containers, then its deployment's network (left behind, it held one of the engine's few address pools).
        instance_cleanup.remove_all()
        container_ids = list(Container.objects.filter(deployment=deployment).values_list("pk", flat=True))
        for model in (Snapshot, MinuteRollup, HourRollup):
            model.objects.filter(container_id__in=container_ids).delete()
        ContainerHealth.objects.filter(container_id__in=container_ids).delete()
        deployment.delete()
        shutil.rmtree(VAR_DIR, ignore_errors=True)

    print(
        json.dumps(
            {
                "containers": containers,
                "round_s": round(round_s, 4),
                "per_container_ms": round(per_container_ms, 4),
                "read_per_container_ms": round(read_ms, 4),
                "docker_stats_s": round(docker_s, 3),
                "sdk_stats_s": round(sdk_s, 3),
                "ratio_vs_docker_stats": round(docker_s / round_s, 1),
                "sampler_cpu_pct": round(cpu_pct, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
