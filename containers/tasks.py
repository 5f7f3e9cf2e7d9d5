"""Celery tasks: thin wrappers that take ids and call the reconciler."""

from __future__ import annotations

from celery import shared_task

from containers import engine, reconcile


@shared_task(autoretry_for=(engine.EngineUnavailable,), retry_backoff=2, retry_backoff_max=30, max_retries=None)
def converge_deployment(deployment_id: int, died: str = "") -> None:
    """Converge one deployment now (queued by changes of desired state, and by the watcher with
    the id of the container that died)."""
    reconcile.converge(deployment_id, died=died)


@shared_task(ignore_result=True)
def reconcile_all() -> None:
    """The beat tick: the safety net when an engine event was missed. An engine that is down is
    skipped quietly; the next tick tries again."""
    try:
        reconcile.converge_all()
    except engine.EngineUnavailable:
        return
