"""A per-deployment lock held while reconciling, so two reconcilers never act on one deployment.

PostgreSQL: a session advisory lock, visible to every worker on every host.
SQLite (the embedded default, one host): an ``flock`` on a file in ``LOCK_DIR``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

# First key of the two-key advisory lock: keeps our locks apart from anyone else's.
_NAMESPACE = 0x0C0D
_ORG_NAMESPACE = 0x0C0E


@contextmanager
def deployment_lock(deployment_id: int, *, blocking: bool = True) -> Iterator[bool]:
    """Hold the deployment's lock; yields False (and holds nothing) if not blocking and it is taken."""
    if connection.vendor == "postgresql":
        with _advisory_lock(deployment_id, blocking) as acquired:
            yield acquired
    else:
        with _file_lock(deployment_id, blocking) as acquired:
            yield acquired


@contextmanager
def organization_lock(organization_id: int) -> Iterator[bool]:
    """Held while an organization's network is looked up or created: Docker allows two networks with
    one name, so two reconcilers must not both create it."""
    if connection.vendor == "postgresql":
        with _advisory_lock(organization_id, True, namespace=_ORG_NAMESPACE) as acquired:
            yield acquired
    else:
        with _file_lock(organization_id, True, prefix="organization") as acquired:
            yield acquired


@contextmanager
def _advisory_lock(key: int, blocking: bool, namespace: int = _NAMESPACE) -> Iterator[bool]:
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
def _file_lock(key: int, blocking: bool, prefix: str = "deployment") -> Iterator[bool]:
    path = settings.LOCK_DIR / f"{prefix}-{key}.lock"
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
