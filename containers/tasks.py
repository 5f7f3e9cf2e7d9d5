"""Celery tasks: thin wrappers that take ids and call the reconciler.

Every task has a soft time limit (``SoftTimeLimitExceeded`` is raised in it, so locks are released
by their context managers) and a hard one (the pool kills the process): a stuck engine call cannot
hold a worker slot for ever. The beat tick runs again anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime

from celery import shared_task

from containers import engine, reconcile


@shared_task(
    autoretry_for=(engine.EngineUnavailable,),
    retry_backoff=2,
    retry_backoff_max=30,
    max_retries=None,
    soft_time_limit=240,
    time_limit=300,
)
def converge_deployment(deployment_id: int, died: str = "", exit_code: int | None = None, died_at_ns: int = 0) -> None:
    """Converge one deployment now (queued by changes of desired state, and by the watcher with
    the id of the container that died and, from its ``die`` event, its exit code and time)."""
    death = None
    if died and died_at_ns:
        death = reconcile.Death(died, exit_code, datetime.fromtimestamp(died_at_ns / 1e9, tz=UTC))
    reconcile.converge(deployment_id, died=died, death=death)


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def reconcile_all() -> None:
    """The beat tick: the safety net when an engine event was missed. An engine that is down is
    skipped quietly; the next tick tries again."""
    try:
        reconcile.converge_all()
    except engine.EngineUnavailable:
        return


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def rollout_step(deployment_id: int) -> None:
    """Carry on a rollout that outlasted one converge's hold; skipped if another converge holds the deployment
    (it carries the rollout on itself)."""
    try:
        reconcile.converge(deployment_id, blocking=False)
    except engine.EngineUnavailable:
        return


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def check_readiness(deployment_id: int, attempt: int = 0) -> None:
    """Mark a death's replacement ready once it answers (outside the deployment's lock); asked again a
    few times while it does not, then left to the tick."""
    if reconcile.check_readiness(deployment_id):
        reconcile.check_readiness_later(deployment_id, attempt + 1)
