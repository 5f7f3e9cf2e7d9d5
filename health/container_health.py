"""The health of one managed container, for the seed's ``GET /containers/instances/{id}/health``.

The seed classes a container as healthy / warning / critical (CPU and memory thresholds) or
stopped. Until the sampler records usage, the class comes from the engine's state alone:

- ``stopped``: the container is not running;
- ``critical``: it runs, but the image's own Docker HEALTHCHECK says it is unhealthy;
- ``unknown``: it runs and its HEALTHCHECK has not judged it yet (``starting``);
- ``healthy``: it runs (and passes its HEALTHCHECK, if it has one).

``basis`` in the answer says which of these rules decided, so clients can tell.
"""

from __future__ import annotations

from typing import Any

from containers import engine
from containers.models import Container
from containers.refusals import NotFound, Refused

# A docker id prefix shorter than this is too likely to be ambiguous; below it, digits mean a pk.
MIN_PREFIX = 12


def find(identifier: str) -> Container:
    """A container by docker id (full, or a prefix of at least 12) or by row id; NotFound otherwise."""
    identifier = identifier.strip().lower()
    qs = Container.objects.select_related("deployment")
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


def classify(detail: engine.ContainerDetail) -> tuple[str, str]:
    """The seed's class for a container, and the rule that decided it."""
    if not detail.info.running:
        return "stopped", "state"
    if detail.health_status == "unhealthy":
        return "critical", "healthcheck"
    if detail.health_status == "starting":
        return "unknown", "healthcheck"
    return "healthy", "healthcheck" if detail.health_status else "state"


def report(container: Container) -> dict[str, Any]:
    """What the engine says about ``container`` now; NotFound if it is gone from the engine."""
    try:
        detail = engine.inspect_container(container.docker_id)
    except engine.ContainerNotFound:
        raise NotFound(f"container {container.short_id} is no longer on the engine") from None
    status, basis = classify(detail)
    info = detail.info
    return {
        "id": info.id,
        "short_id": info.id[:12],
        "pk": container.pk,
        "name": info.name,
        "deployment": container.deployment.name,
        "status": status,
        "basis": basis,
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
    }
