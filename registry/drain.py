"""Drain before stop: a container about to be removed first stops taking new requests in HAProxy.

Registered into ``containers.hooks.before_container_stop``: the endpoints of those containers that
still take traffic are set ``draining`` (HAProxy's ``state drain``: no new requests, the current
ones carry on), pushed to HAProxy at once, and the stop waits until HAProxy counts no session on
them or the deployment's ``drain_timeout_s`` passes (``LB_DRAIN_TIMEOUT_S`` caps it). Then the
engine sends SIGTERM and the deployment's ``stop_grace_s`` before SIGKILL. Scale-downs,
removals from the console or API and deleted deployments all pass here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from django.conf import settings

from registry import endpoints, haproxy, loadbalancer
from registry.haproxy_config import parse_servers_state, parse_stat
from registry.models import ServiceEndpoint

log = logging.getLogger(__name__)

ACTOR = "loadbalancer"


def before_container_stop(docker_ids: Sequence[str]) -> None:
    if not settings.LB_ENABLED or not docker_ids:
        return
    serving = list(
        ServiceEndpoint.objects.filter(
            container__docker_id__in=list(docker_ids), status=ServiceEndpoint.Status.HEALTHY
        ).select_related("container__deployment")
    )
    if not serving:
        return
    for endpoint in serving:
        endpoints.set_status(endpoint, ServiceEndpoint.Status.DRAINING, actor=ACTOR)
    try:
        loadbalancer.sync()
        # Each deployment's own drain timeout, the setting its ceiling (0 there: no waiting at all).
        timeout = min(
            [settings.LB_DRAIN_TIMEOUT_S]
            + [e.container.deployment.drain_timeout_s for e in serving if e.container is not None]
        )
        waited = wait_for_sessions(
            {(e.service, loadbalancer.address(e.host) or e.host, e.port) for e in serving}, timeout
        )
    except haproxy.LoadBalancerError as exc:
        log.warning("could not drain %s in HAProxy: %s", [str(e) for e in serving], exc)
        return
    log.info("drained %s in %.1fs", [str(e) for e in serving], waited)


def wait_for_sessions(addresses: set[tuple[str, str, int]], timeout_s: float) -> float:
    """Until HAProxy has no current session on any of ``addresses`` (service, addr, port), or ``timeout_s``."""
    started = time.monotonic()
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        slots = parse_servers_state(haproxy.servers_state())
        stats = parse_stat(haproxy.stat())
        busy = 0
        for service, backend_slots in slots.items():
            for slot in backend_slots:
                if (service, slot.addr, slot.port) in addresses:
                    figures = stats.get((service, slot.name))
                    busy += figures.sessions if figures else 0
        if not busy:
            break
        time.sleep(0.1)
    return time.monotonic() - started
