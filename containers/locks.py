"""A per-deployment lock held while reconciling, so two reconcilers never act on one deployment, and a
per-job lock held for a periodic round (probes, autoscaling), so a slow round never overlaps the next.

A deletion also holds a per-deployment *intent* lock while it waits for the deployment's lock: a
converge holding that lock through a rollout (up to ROLLOUT_HOLD_S) sees it and lets go at its next
step, so a DELETE does not wait for the rollout. Released with the deleter's connection or process,
it never outlives an interrupted deletion.

PostgreSQL: a session advisory lock, visible to every worker on every host.
SQLite (the embedded default, one host): an ``flock`` on a file in ``LOCK_DIR``.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

# First key of the two-key advisory lock: keeps our locks apart from anyone else's.
_NAMESPACE = 0x0C0D
_JOB_NAMESPACE = 0x0C0E
_DELETING_NAMESPACE = 0x0C0F


@contextmanager
def deployment_lock(deployment_id: int, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the deployment's lock; yields False (and holds nothing) if not blocking and it is taken."""
    if connection.vendor == "postgresql":
        with _advisory_lock(_NAMESPACE, deployment_id, blocking) as acquired:
            yield acquired
    else:
        with _file_lock(f"deployment-{deployment_id}", blocking) as acquired:
            yield acquired


@contextmanager
def deletion_intent(deployment_id: int) -> Iterator[None]:
    """Say "this deployment is being deleted" while the block runs (see :func:`deletion_pending`)."""
    if connection.vendor == "postgresql":
        with _advisory_lock(_DELETING_NAMESPACE, deployment_id, True):
            yield
    else:
        with _file_lock(f"deleting-{deployment_id}", True):
            yield


def deletion_pending(deployment_id: int) -> bool:
    """Is someone deleting the deployment (holding :func:`deletion_intent`)? One cheap query or flock."""
    if connection.vendor == "postgresql":
        with _advisory_lock(_DELETING_NAMESPACE, deployment_id, False) as free:
            return not free
    with _file_lock(f"deleting-{deployment_id}", False) as free:
        return not free


@contextmanager
def job_lock(job: str) -> Iterator[bool]:
    """Hold the periodic ``job``'s lock if no one else does; yields whether this process got it."""
    if connection.vendor == "postgresql":
        with _advisory_lock(_JOB_NAMESPACE, zlib.crc32(job.encode()) & 0x7FFFFFFF, False) as acquired:
            yield acquired
    else:
        with _file_lock(f"job-{job}", False) as acquired:
            yield acquired


@contextmanager
def _advisory_lock(namespace: int, key: int, blocking: bool) -> Iterator[bool]:
    with connection.cursor() as cursor:
        if blocking:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, key])
            acquired = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
            acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])


@contextmanager
def _file_lock(name: str, blocking: bool) -> Iterator[bool]:
    path = settings.LOCK_DIR / f"{name}.lock"
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
