"""Celery tasks of the registry: thin, they call registry.loadbalancer and registry.services."""

from __future__ import annotations

import logging

from celery import shared_task

from registry import haproxy, loadbalancer, services

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sync_loadbalancer() -> None:
    """Push the registry's state into HAProxy now (queued after every committed registry change)."""
    try:
        loadbalancer.sync()
    except haproxy.LoadBalancerError as exc:
        # The tick tries again; /health/detailed shows the load balancer down meanwhile.
        log.warning("load balancer sync failed: %s", exc)


@shared_task(ignore_result=True)
def loadbalancer_tick() -> None:
    """The beat tick: retire services left without deployment or endpoints, then sync (starting
    HAProxy again if it died)."""
    services.retire_orphans()
    sync_loadbalancer()
