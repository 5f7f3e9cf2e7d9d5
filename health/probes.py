"""Liveness and readiness probes, run by the orchestrator against each container's port on 127.0.0.1.

Images need no curl: HTTP and TCP checks are made from here, only ever to the port the container
publishes on loopback (``Container.host_port``), never to a bridge IP. Checks of one round run in a
bounded thread pool (network only); the results are written from the calling thread.

- liveness: ``failure_threshold`` failures in a row restart the container (``probe.restart``), counted
  as a crash toward crash-loop backoff; while the deployment is backing off the restart waits.
- readiness: its service endpoint (registry) is ``healthy`` while the probe passes and ``unhealthy``
  once it failed ``failure_threshold`` times in a row. Docker's own HEALTHCHECK saying ``unhealthy``
  counts as a readiness failure too.
"""

from __future__ import annotations

import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from containers import deployments, engine, reconcile
from containers.locks import job_lock
from containers.models import Container, record
from health.classify import Verdict
from health.models import Probe, ProbeResult
from orchestrator_site import outbound
from orchestrator_site.processes import heartbeats
from registry import endpoints
from registry.models import ServiceEndpoint

ACTOR = "prober"
JOB = "probes"
PROBE_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Outcome:
    """One check's result."""

    ok: bool
    detail: str
    status_code: int | None = None
    latency_ms: float | None = None


def check_http(port: int, path: str, expected_status: int, timeout_s: float) -> Outcome:
    """GET ``path`` on 127.0.0.1:``port``: passes when the answer has exactly ``expected_status``.

    ``timeout_s`` bounds the whole check (``orchestrator_site.outbound``), not each read: a container
    that drips its answer a byte at a time fails the probe instead of holding the round.
    """
    try:
        answer = outbound.request_loopback(port, path or "/", deadline_s=timeout_s)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:255])
    ok = answer.status == expected_status
    detail = f"HTTP {answer.status}" + ("" if ok else f", expected {expected_status}")
    return Outcome(ok, detail, answer.status, round(answer.elapsed_s * 1000, 3))


def check_tcp(port: int, timeout_s: float) -> Outcome:
    """Passes when a TCP connection to 127.0.0.1:``port`` opens within the timeout."""
    started = time.monotonic()
    try:
        with socket.create_connection((PROBE_HOST, port), timeout=timeout_s):
            pass
    except OSError as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:255])
    return Outcome(True, "connected", None, round((time.monotonic() - started) * 1000, 3))


def check(probe: Probe, container: Container) -> Outcome:
    """Run ``probe`` once against ``container``; readiness also asks the engine for Docker's HEALTHCHECK."""
    if not container.host_port:
        return Outcome(False, "no port published on 127.0.0.1")
    if probe.type == Probe.Type.TCP:
        outcome = check_tcp(container.host_port, probe.timeout_s)
    else:
        outcome = check_http(container.host_port, probe.path, probe.expected_status, probe.timeout_s)
    if outcome.ok and probe.kind == Probe.Kind.READINESS:
        try:
            status = engine.inspect_container(container.docker_id).health_status
        except engine.EngineError:
            status = None  # the engine's opinion is extra; our own check passed
        if status == "unhealthy":
            return Outcome(False, "Docker HEALTHCHECK reports unhealthy", outcome.status_code, outcome.latency_ms)
    return outcome


def ready_for(container_pk: int) -> bool | None:
    """The ``containers.hooks.readiness`` receiver: the deployment's readiness probe, run once now, says
    whether the container is ready; None (no opinion) when it has no enabled readiness probe."""
    container = Container.objects.filter(pk=container_pk).first()
    if container is None:
        return False
    probe = Probe.objects.filter(deployment_id=container.deployment_id, kind=Probe.Kind.READINESS, enabled=True).first()
    if probe is None:
        return None
    return check(probe, container).ok


def any_enabled() -> bool:
    """Whether beat's probe tick has anything to do (its gate: no probe, no tick at all)."""
    return Probe.objects.filter(enabled=True).exists()


def due(now: datetime) -> list[tuple[Probe, Container, ProbeResult | None]]:
    """Every (probe, running container) whose last check is at least the probe's period old."""
    probes = list(Probe.objects.filter(enabled=True).select_related("deployment"))
    if not probes:
        return []
    deployment_ids = {p.deployment_id for p in probes}
    containers: dict[int, list[Container]] = {}
    for container in Container.objects.filter(
        deployment_id__in=deployment_ids, status=Container.Status.RUNNING
    ).select_related("deployment"):
        containers.setdefault(container.deployment_id, []).append(container)
    results = {
        (r.probe_id, r.container_id): r
        for r in ProbeResult.objects.filter(probe__in=probes, container__deployment_id__in=deployment_ids)
    }
    work = []
    for probe in probes:
        for container in containers.get(probe.deployment_id, []):
            result = results.get((probe.pk, container.pk))
            if result is None or result.checked_at + timedelta(seconds=probe.period_s) <= now:
                work.append((probe, container, result))
    return work


def run_scheduled() -> int:
    """Beat's tick: a round, unless another process is running one or just ran one."""
    with job_lock(JOB) as acquired:
        if not acquired or not heartbeats.claim(JOB, settings.PROBE_TICK_S / 2):
            return 0
        return run_round()


def run_round(now: datetime | None = None) -> int:
    """Check every due probe concurrently and apply the results; returns how many checks ran."""
    now = now or timezone.now()
    work = due(now)
    if not work:
        return 0
    with ThreadPoolExecutor(max_workers=min(settings.PROBE_WORKERS, len(work))) as pool:
        outcomes = list(pool.map(lambda item: check(item[0], item[1]), work))
    for (probe, container, result), outcome in zip(work, outcomes, strict=True):
        apply(probe, container, result, outcome, timezone.now())
    return len(work)


def apply(
    probe: Probe, container: Container, result: ProbeResult | None, outcome: Outcome, at: datetime
) -> ProbeResult:
    """Keep the result, then act on it: restart on liveness failures, endpoint status on readiness."""
    previous_failures = result.consecutive_failures if result else 0
    failures = 0 if outcome.ok else previous_failures + 1
    result, _ = ProbeResult.objects.update_or_create(
        probe=probe,
        container=container,
        defaults={
            "ok": outcome.ok,
            "status_code": outcome.status_code,
            "detail": outcome.detail,
            "latency_ms": outcome.latency_ms,
            "checked_at": at,
            "consecutive_failures": failures,
        },
    )
    if failures == probe.failure_threshold:
        record(
            "probe.failed",
            actor=ACTOR,
            deployment=probe.deployment,
            container_docker_id=container.docker_id,
            message=f"{probe.kind} probe of {container.name} failed {failures} times in a row: {outcome.detail}",
            after={"kind": probe.kind, "type": probe.type, "failures": failures, "detail": outcome.detail},
        )
    if probe.kind == Probe.Kind.LIVENESS and failures >= probe.failure_threshold:
        _restart(probe, container, result)
    elif probe.kind == Probe.Kind.READINESS:
        _set_readiness(container, ready=failures < probe.failure_threshold if failures else True)
    return result


def _restart(probe: Probe, container: Container, result: ProbeResult) -> None:
    deployment = probe.deployment
    if deployment.in_backoff():
        return  # crash-loop backoff: the restart waits like a new start would
    try:
        deployments.restart_container(
            container,
            actor=ACTOR,
            event="probe.restart",
            message=f"{container.name} restarted: liveness probe failed {probe.failure_threshold} times in a row",
            after={"kind": probe.kind, "failures": probe.failure_threshold, "detail": result.detail},
        )
    except engine.ContainerNotFound:
        return  # the reconciler will notice it is gone
    result.consecutive_failures = 0
    result.save(update_fields=["consecutive_failures"])
    reconcile.count_crash(deployment, actor=ACTOR, reason=f"liveness probe of {container.name}")


def _set_readiness(container: Container, *, ready: bool) -> None:
    endpoint = ServiceEndpoint.objects.filter(container=container).select_related("container").first()
    if endpoint is None or endpoint.status == ServiceEndpoint.Status.DRAINING:
        return  # draining is an operator's decision; a probe does not undo it
    status = ServiceEndpoint.Status.HEALTHY if ready else ServiceEndpoint.Status.UNHEALTHY
    endpoints.set_status(endpoint, status, actor=ACTOR)


# --- for GET /containers/instances/{id}/health -------------------------------------------------


def results(container: Container) -> list[dict[str, Any]]:
    """The container's latest probe results, one per probe of its deployment."""
    rows = {r.probe_id: r for r in ProbeResult.objects.filter(container=container)}
    answer = []
    for probe in Probe.objects.filter(deployment_id=container.deployment_id, enabled=True):
        row = rows.get(probe.pk)
        answer.append(
            {
                "kind": probe.kind,
                "type": probe.type,
                "path": probe.path if probe.type == Probe.Type.HTTP else None,
                "ok": row.ok if row else None,
                "status_code": row.status_code if row else None,
                "detail": row.detail if row else "not checked yet",
                "latency_ms": row.latency_ms if row else None,
                "consecutive_failures": row.consecutive_failures if row else 0,
                "failure_threshold": probe.failure_threshold,
                "checked_at": row.checked_at.isoformat() if row else None,
            }
        )
    return answer


def verdicts(probe_results: list[dict[str, Any]]) -> list[Verdict]:
    """A verdict per checked probe: critical at its threshold, warning while failing below it, else healthy."""
    answer = []
    for item in probe_results:
        if item["ok"] is None:
            continue
        if item["ok"]:
            health_class = "healthy"
        elif item["consecutive_failures"] >= item["failure_threshold"]:
            health_class = "critical"
        else:
            health_class = "warning"
        answer.append(Verdict(health_class, f"probe:{item['kind']}"))
    return answer
