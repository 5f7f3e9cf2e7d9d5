"""A slow peer stalls nothing: with a webhook receiver that drips its answer a byte at a time and a
probe target that never finishes answering, the real workers still heal a killed container (probes
and alerts run on their own queue and worker; every network call has a total deadline)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Process, deploy, docker_cli, on_engine, wait_for
from containers.models import Image, record
from health import tasks
from health.models import AlertDelivery, AlertRule, Probe, ProbeResult
from health.tests import webhook_servers as servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("remove_test_containers")]

# An HTTP server that sends a status line, then one byte every half second for ever (busybox nc).
DRIP_SCRIPT = '#!/bin/sh\nprintf "HTTP/1.1 200 OK\\r\\n"\nwhile :; do printf a; sleep 0.5; done\n'
DRIPPING_SERVER = [
    "sh",
    "-c",
    f"printf '%s' '{DRIP_SCRIPT}' > /tmp/drip; chmod +x /tmp/drip; exec nc -ll -p 8080 -e /tmp/drip",
]


def count(process: Process, *needles: str) -> int:
    """Lines of the process's log holding every one of ``needles``."""
    if not process.log_path.exists():
        return 0
    return sum(all(n in line for n in needles) for line in process.log_path.read_text(errors="replace").splitlines())


@pytest.fixture
def loopback_webhooks(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """The drip receiver listens on 127.0.0.1: allow-listed for this process and the workers it starts."""
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("WEBHOOK_DEADLINE_S", "5")
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def dripper() -> Iterator[servers.Server]:
    stop = threading.Event()
    server = servers.Server(servers.drip(0.3, stop))
    yield server
    stop.set()
    server.close()


def test_reconcile_heals_a_kill_while_probes_and_alerts_wait_on_slow_peers(
    loopback_webhooks: None, dripper: servers.Server, orchestrator_processes: dict[str, Process], demo_image: Image
) -> None:
    processes = orchestrator_processes.values()
    wait_for(lambda: all(count(p, "ready.") for p in processes if p.name != "watcher"), timeout=60, what="workers")
    slow = deploy(demo_image, "peer-slow", 2, container_port=8080, command=DRIPPING_SERVER)
    Probe.objects.create(deployment=slow, kind="readiness", type="http", timeout_s=2.0, period_s=1.0)
    AlertRule.objects.create(name="drip", event_kinds=["container.died"], webhook_url=dripper.url, cooldown_s=0)
    healthy = deploy(demo_image, "peer-healthy", 1, container_port=8080)
    (victim,) = on_engine(healthy)
    # The converges queued by creating the deployments are done before the kill, so only one queued
    # after it can heal.
    wait_for(lambda: sum(count(p, "converge_deployment[", "succeeded") for p in processes) >= 2, what="converges")
    # Fill the peers' queue: every probe round meets the dripping containers, every alert run the
    # dripping receiver (each died event below is one more delivery).
    for n in range(4):
        record("container.died", actor="tests", deployment=slow, message=f"drip #{n}")
    for _ in range(6):
        tasks.run_probes.delay()
        tasks.deliver_alerts.delay()
    # Whichever worker serves them is now busy with them.
    wait_for(lambda: sum(count(p, "run_probes[", "received") for p in processes) >= 2, what="probe rounds taken")
    wait_for(lambda: sum(count(p, "deliver_alerts[", "received") for p in processes) >= 2, what="alert runs taken")
    time.sleep(1)

    killed_at = time.monotonic()
    docker_cli("kill", victim.id)

    def healed() -> bool:
        return any(c.running and c.id != victim.id for c in on_engine(healthy))

    wait_for(healed, timeout=30, what=lambda: "a replacement\n" + orchestrator_processes["worker"].log_tail())
    heal_s = time.monotonic() - killed_at
    # The slow peers were cut at their deadlines, not waited on for ever.
    wait_for(
        lambda: AlertDelivery.objects.filter(status="failed", error__contains="TimeoutError").exists(),
        timeout=60,
        what=lambda: "a webhook cut at its deadline\n" + orchestrator_processes["peer-worker"].log_tail(),
    )
    wait_for(
        lambda: ProbeResult.objects.filter(ok=False, detail__contains="TimeoutError").exists(),
        timeout=60,
        what=lambda: "a probe cut at its deadline\n" + orchestrator_processes["peer-worker"].log_tail(),
    )
    assert heal_s < 30
