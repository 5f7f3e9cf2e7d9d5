"""Celery tasks of the health app: thin wrappers around heartbeats, the sampler, rollups and retention.

Every task has a soft and a hard time limit. Probes and alert deliveries wait on other people's
servers, so they run on their own queue (``PEER_QUEUE``, see ``CELERY_TASK_ROUTES``) served by its own
worker: however slow those peers are, reconcile and sampling keep their slots.
"""

from __future__ import annotations

from celery import shared_task

from containers import engine
from health import rollups, sampler
from orchestrator_site.processes import heartbeats


@shared_task(ignore_result=True, soft_time_limit=10, time_limit=20)
def beat_tick() -> None:
    """Queued by beat: proves beat is ticking (the worker records its own heartbeat)."""
    heartbeats.beat("beat")


@shared_task(ignore_result=True, soft_time_limit=10, time_limit=20)
def ping_worker(token: str) -> None:
    """Used by the integration check: a worker records that it ran this exact request."""
    heartbeats.beat("worker", token=token)


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def sample() -> None:
    """Beat's sampling tick. An engine that is down is skipped quietly: the next tick tries again,
    and /health/detailed shows the sampler falling behind."""
    try:
        sampler.run_scheduled()
    except engine.EngineUnavailable:
        return


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def rollup() -> None:
    rollups.rollup()


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def prune() -> None:
    rollups.prune()


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def run_probes() -> None:
    """Beat's probe tick: checks the due probes. An engine that is down is skipped like the sampler's."""
    from health import probes

    try:
        probes.run_scheduled()
    except engine.EngineUnavailable:
        return


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def deliver_alerts() -> None:
    """Beat's alert tick: matches new events against the rules and delivers them."""
    from health import alerts

    alerts.run()


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def autoscale() -> None:
    """Beat's autoscaling tick."""
    from health import autoscale as autoscaling

    try:
        autoscaling.run_scheduled()
    except engine.EngineUnavailable:
        return
