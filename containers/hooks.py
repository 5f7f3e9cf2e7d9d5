"""What the containers floor announces to the floors above it (registry, health, billing).

A lower floor never imports a higher one. Instead it calls these hook lists at fixed points, and
each higher app appends its receivers in its ``AppConfig.ready()``. A hook carries ids, never
model instances, so a receiver reads what it needs itself; a receiver that does slow I/O (HTTP,
the load balancer) queues its own task rather than holding up the caller.

- ``after_converge(deployment_id)``: a converge of that deployment finished, under its lock,
  with the container rows mirroring the engine. Receivers run inline, inside the lock.
- ``before_container_stop(docker_ids)``: the orchestrator is about to remove these containers
  (a converge's removals, a removal from the console or the API, a deleted deployment). The
  last moment to read their counters.
- ``before_container_restart(docker_ids)``: the orchestrator is about to restart these containers
  in place (the console, the API, a liveness probe). Their counters start again from zero after it.
- ``readiness(container_pk)``: is this running container ready to take traffic? True/False, or None
  for no opinion (no readiness probe). The first opinion wins; without one a rollout asks the
  container's published port (``containers.rollouts.ready``). Receivers run inline and must be quick.
- ``lb_urls(names)``: the load-balanced URL of each of these deployments' services (a dict by name;
  a name without one is left out). ``GET /api/deployments/`` shows it as ``lb_url``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

AfterConverge = Callable[[int], None]
BeforeContainerStop = Callable[[Sequence[str]], None]

Readiness = Callable[[int], "bool | None"]

after_converge: list[AfterConverge] = []
readiness: list[Readiness] = []
LbUrls = Callable[[Sequence[str]], dict[str, str]]
lb_urls: list[LbUrls] = []
before_container_stop: list[BeforeContainerStop] = []
before_container_restart: list[BeforeContainerStop] = []


def converged(deployment_id: int) -> None:
    """Tell every ``after_converge`` receiver. Their errors propagate: a converge that could not
    publish its endpoints failed, and the next tick repeats it."""
    for receiver in after_converge:
        receiver(deployment_id)


def stopping(docker_ids: Sequence[str]) -> None:
    """Tell every ``before_container_stop`` receiver. A receiver's error is logged, never raised:
    a container must still stop when, say, its last reading could not be taken."""
    _tell(before_container_stop, docker_ids, "before_container_stop")


def restarting(docker_ids: Sequence[str]) -> None:
    """Tell every ``before_container_restart`` receiver; errors are logged like ``stopping``'s."""
    _tell(before_container_restart, docker_ids, "before_container_restart")


def _tell(receivers: list[BeforeContainerStop], docker_ids: Sequence[str], name: str) -> None:
    if not docker_ids:
        return
    for receiver in receivers:
        try:
            receiver(list(docker_ids))
        except Exception:
            log.exception("%s receiver %r failed", name, receiver)


def lb_urls_for(names: Sequence[str]) -> dict[str, str]:
    """Every ``lb_urls`` receiver's answer for these deployment names, merged (none registered: empty)."""
    urls: dict[str, str] = {}
    for receiver in lb_urls:
        urls.update(receiver(list(names)))
    return urls
