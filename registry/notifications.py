"""How a registry change reaches the watch hubs at once: PostgreSQL ``NOTIFY`` or Redis pub/sub.

:func:`publish` is called by :func:`registry.services.touch` inside its transaction; the message
goes out only once the change is committed (``pg_notify`` is delivered at commit; the Redis
``PUBLISH`` runs in ``on_commit``). :func:`listen` gives the hub (:mod:`registry.watch`) something
to block on until the next message or a timeout. Which way is ``DISCOVERY_NOTIFY``'s choice:

- ``auto`` (default): PostgreSQL's ``LISTEN/NOTIFY`` on PostgreSQL; otherwise Redis pub/sub when the
  broker (``CELERY_BROKER_URL``) is Redis, as the embedded default's private Redis is; otherwise none.
- ``postgres``, ``redis``: that one; ``poll``: none.

A message only says "look now": the hub still reads the index from the database, and keeps
polling every ``DISCOVERY_POLL_S`` in any case, so a lost message (Redis restarted, say) costs at
most one poll interval, never a missed change.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

PG_CHANNEL = "orchestrator_registry"
REDIS_TIMEOUT_S = 2.0


class Listener(Protocol):
    """Something the hub blocks on: returns at the first message or after ``timeout`` seconds."""

    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


def mode() -> str:
    """``postgres``, ``redis`` or ``poll``: how changes are announced and heard in this process."""
    chosen = settings.DISCOVERY_NOTIFY
    if chosen != "auto":
        return str(chosen)
    if connection.vendor == "postgresql":
        return "postgres"
    if redis_url_kwargs(settings.CELERY_BROKER_URL) is not None:
        return "redis"
    return "poll"


def publish(index: int) -> None:
    """Announce ``index`` once the caller's transaction commits (call it inside that transaction)."""
    how = mode()
    if how == "postgres":
        with connection.cursor() as cursor:
            # Delivered at commit, and only if the transaction commits.
            cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, str(index)])
    elif how == "redis":
        transaction.on_commit(lambda: _redis_publish(index))


def listen() -> Listener | None:
    """A listener for this process's hub; None when changes are only polled."""
    how = mode()
    if how == "postgres":
        return PostgresListener()
    if how == "redis":
        return RedisListener()
    return None


# --- PostgreSQL --------------------------------------------------------------------------------------


class PostgresListener:
    """Its own autocommit connection, ``LISTEN``ing on :data:`PG_CHANNEL`."""

    def __init__(self) -> None:
        import psycopg

        db = settings.DATABASES["default"]
        self.conn = psycopg.connect(
            host=db.get("HOST") or "127.0.0.1",
            port=int(db.get("PORT") or 5432),
            dbname=db["NAME"],
            user=db.get("USER"),
            password=db.get("PASSWORD"),
            autocommit=True,
        )
        self.conn.execute(f"LISTEN {PG_CHANNEL}")

    def wait(self, timeout: float) -> None:
        for _ in self.conn.notifies(timeout=timeout, stop_after=1):
            pass

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # already broken; nothing to release
            pass


# --- Redis -------------------------------------------------------------------------------------------


def redis_url_kwargs(url: str) -> dict[str, Any] | None:
    """redis-py connection arguments for a Celery/kombu Redis broker URL (``redis://``, ``rediss://``,
    ``redis+socket:///path``, ``unix:///path``); None for any other broker."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme in ("redis+socket", "unix", "socket"):
        path = unquote(parts.path)
        if not path:
            return None
        kwargs: dict[str, Any] = {"unix_socket_path": path}
        db = query.get("virtual_host") or query.get("db")
        if db and db.isdigit():
            kwargs["db"] = int(db)
        if parts.password:
            kwargs["password"] = unquote(parts.password)
        return kwargs
    if parts.scheme in ("redis", "rediss"):
        return {"url": url}
    return None


def channel() -> str:
    """The pub/sub channel of this orchestrator's database: Redis channels are global to the server
    (not per db number), so two instances sharing a Redis never wake each other's watchers."""
    db = settings.DATABASES["default"]
    identity = f"{db.get('ENGINE')}|{db.get('HOST')}|{db.get('PORT')}|{db.get('NAME')}"
    return f"{PG_CHANNEL}:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def redis_client() -> redis.Redis:
    """A new client of the broker's Redis (short timeouts: a change never waits long on it)."""
    kwargs = redis_url_kwargs(settings.CELERY_BROKER_URL)
    if kwargs is None:
        raise RuntimeError(f"the broker is not Redis: {settings.CELERY_BROKER_URL.split('://', 1)[0]}://")
    url = kwargs.pop("url", None)
    if url is not None:
        return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
    return redis.Redis(
        unix_socket_path=kwargs["unix_socket_path"],
        db=kwargs.get("db", 0),
        password=kwargs.get("password"),
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
    )


_publisher: redis.Redis | None = None
_publisher_lock = threading.Lock()


def _redis_publish(index: int) -> None:
    global _publisher
    try:
        with _publisher_lock:
            if _publisher is None:
                _publisher = redis_client()
            client = _publisher
        client.publish(channel(), str(index))
    except Exception as exc:  # Redis away: the change stands, watchers hear of it at the next poll
        log.warning("could not publish registry index %s: %s", index, exc)


class RedisListener:
    """A subscription to :func:`channel` on the broker's Redis."""

    def __init__(self) -> None:
        self.client = redis_client()
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel())

    def wait(self, timeout: float) -> None:
        if self.pubsub.get_message(timeout=timeout) is None:
            return
        while self.pubsub.get_message(timeout=0) is not None:  # a burst of changes: one look covers them all
            pass

    def close(self) -> None:
        for resource in (self.pubsub, self.client):
            try:
                resource.close()
            except Exception:  # already broken; nothing to release
                pass
