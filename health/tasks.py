"""Celery tasks of the health app."""

from __future__ import annotations

from celery import shared_task

from health import heartbeats


@shared_task(ignore_result=True)
def beat_tick() -> None:
    """Queued by beat: proves beat is ticking (the worker records its own heartbeat)."""
    heartbeats.beat("beat")


@shared_task(ignore_result=True)
def ping_worker(token: str) -> None:
    """Used by the integration check: a worker records that it ran this exact request."""
    heartbeats.beat("worker", token=token)
