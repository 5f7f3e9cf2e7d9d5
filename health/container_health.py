"""The health of one managed container, for the seed's ``GET /containers/instances/{id}/health``.

The seed classes a container as healthy / warning / critical (CPU and memory thresholds) or
stopped. The answer's ``status`` is the worst of several verdicts, each with its ``basis``:

- ``state``: the engine says it is not running (``stopped``), or it runs and nothing else is known;
- ``healthcheck``: the image's own Docker HEALTHCHECK (``unhealthy`` is ``critical``, ``starting`` is
  ``unknown``);
- ``usage``: the sampler's class from CPU and memory use, while its figures are fresh.

Every verdict is listed in ``verdicts``; each checked probe adds one (``probe:liveness``,
``probe:readiness``), and ``probes`` lists their latest results when the deployment has probes. The
latest figures are under ``metrics`` (null until the container is first sampled).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from containers import engine
from containers.models import Container
from containers.refusals import NotFound, Refused
from health import probes
from health.classify import STOPPED, Verdict, worst
from health.models import ContainerHealth
from tenancy.access import Access
from tenancy.scope import scope

# A docker id prefix shorter than this is too likely to be ambiguous; below it, digits mean a pk.
MIN_PREFIX = 12


def find(identifier: str, who: Access) -> Container:
    """One of the caller's containers by docker id (full, or a prefix of at least 12) or by row id;
    NotFound otherwise (also for another organization's)."""
    identifier = identifier.strip().lower()
    qs = scope(Container.objects.select_related("deployment", "health"), who)
    if identifier.isdigit() and len(identifier) < MIN_PREFIX:
        container = qs.filter(pk=int(identifier)).first()
    elif len(identifier) >= MIN_PREFIX:
        matches = list(qs.filter(docker_id__startswith=identifier)[:2])
        if len(matches) > 1:
            raise Refused(f"{identifier!r} matches more than one container: give more of the id", field="id")
        container = matches[0] if matches else None
    else:
        raise NotFound(f"no container {identifier!r}: give a container id (at least {MIN_PREFIX} characters)")
    if container is None:
        raise NotFound(f"no managed container {identifier!r}")
    return container


def engine_verdict(detail: engine.ContainerDetail) -> Verdict:
    """The class the engine's own view gives: its state, and the image's HEALTHCHECK if it has one."""
    if not detail.info.running:
        return Verdict("stopped", "state")
    if detail.health_status == "unhealthy":
        return Verdict("critical", "healthcheck")
    if detail.health_status == "starting":
        return Verdict("unknown", "healthcheck")
    return Verdict("healthy", "healthcheck" if detail.health_status else "state")


def usage_verdict(health: ContainerHealth | None) -> Verdict | None:
    """The sampler's class, if it sampled the container running recently enough to still be true."""
    if health is None or health.health_class == STOPPED:
        return None
    age = (timezone.now() - health.sampled_at).total_seconds()
    if age > settings.HEALTH_SAMPLER_STALE_S:
        return None
    return Verdict(health.health_class, "usage")


def metrics(health: ContainerHealth | None) -> dict[str, Any] | None:
    if health is None:
        return None
    return {
        "class": health.health_class,
        "class_since": health.class_since.isoformat(),
        "sampled_at": health.sampled_at.isoformat(),
        "age_s": round((timezone.now() - health.sampled_at).total_seconds(), 3),
        "source": health.source,
        "cpu_pct": health.cpu_pct,
        "memory_bytes": health.memory_bytes,
        "memory_pct": health.memory_pct,
        "memory_limit_bytes": health.memory_limit_bytes,
        "pids": health.pids,
        "net_rx_bytes": health.net_rx_bytes,
        "net_tx_bytes": health.net_tx_bytes,
        "blk_read_bytes": health.blk_read_bytes,
        "blk_write_bytes": health.blk_write_bytes,
        "cpu_usage_ns": health.cpu_usage_ns,
    }


def report(container: Container) -> dict[str, Any]:
    """What the engine says about ``container`` now, and its latest figures; NotFound if it is gone from the engine."""
    try:
        detail = engine.inspect_container(container.docker_id)
    except engine.ContainerNotFound:
        raise NotFound(f"container {container.short_id} is no longer on the engine") from None
    health: ContainerHealth | None = getattr(container, "health", None)
    verdicts = [engine_verdict(detail)]
    usage = usage_verdict(health)
    if detail.info.running and usage is not None:
        verdicts.insert(0, usage)  # of equal verdicts the first is named: the figures say more than the state
    probe_results = probes.results(container)
    if detail.info.running:
        verdicts.extend(probes.verdicts(probe_results))
    decided = worst(verdicts)
    info = detail.info
    body: dict[str, Any] = {
        "id": info.id,
        "short_id": info.id[:12],
        "pk": container.pk,
        "name": info.name,
        "deployment": container.deployment.name,
        "status": decided.health_class,
        "basis": decided.basis,
        "verdicts": [{"class": v.health_class, "basis": v.basis} for v in verdicts],
        "state": info.state,
        "running": info.running,
        "restart_count": detail.restart_count,
        "started_at": detail.started_at.isoformat() if detail.started_at else None,
        "finished_at": detail.finished_at.isoformat() if detail.finished_at and not info.running else None,
        "exit_code": info.exit_code,
        "oom_killed": detail.oom_killed,
        "host_port": info.host_port,
        "address": f"127.0.0.1:{info.host_port}" if info.host_port else None,
        "healthcheck": (
            {"status": detail.health_status, "failing_streak": detail.health_failing_streak}
            if detail.health_status
            else None
        ),
        "image": detail.image_reference,
        "cpu_limit": detail.cpu_limit,
        "memory_limit_bytes": detail.memory_limit_bytes,
        "metrics": metrics(health),
    }
    if probe_results:  # listed once the deployment has probes (the answer's shape predates them)
        body["probes"] = probe_results
    return body
