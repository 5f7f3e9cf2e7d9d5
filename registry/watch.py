"""Blocking queries without a thread per watcher: one hub per process follows the registry index.

A daemon thread reads the global index (every ``DISCOVERY_POLL_S``, and at once on PostgreSQL's
``NOTIFY`` for the channel :func:`registry.services.touch` notifies), then which services moved,
and wakes the waiters whose index they passed. An async waiter is an ``asyncio.Event`` set
through its loop (the watch server holds hundreds of them in one process); a sync waiter (the
API under a WSGI server) is a ``threading.Event`` and does hold its thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from registry.models import Service
from registry.services import NOTIFY_CHANNEL, current_index

log = logging.getLogger(__name__)

ALL = ""  # the key of list watchers: any service's change wakes them


@dataclass(eq=False)
class Waiter:
    index: int
    wake: Callable[[], None]
    woken: bool = field(default=False)


class Hub:
    """The registry index as this process last saw it, and the waiters on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, int] = {}
        self._global: int | None = None
        self._waiters: dict[str, set[Waiter]] = defaultdict(set)
        self._thread: threading.Thread | None = None
        self._last_poll = 0.0

    # --- what the hub knows ---------------------------------------------------------------------

    def fresh(self) -> bool:
        """Has the thread polled lately (so :meth:`known` can answer a conditional GET without the database)?"""
        limit = max(1.0, 5 * settings.DISCOVERY_POLL_S)
        return self._global is not None and time.monotonic() - self._last_poll < limit

    def known(self, key: str) -> int | None:
        """The last index seen for service ``key`` (or the global one for ALL); None when not fresh."""
        if not self.fresh():
            return None
        return self._global if key == ALL else self._known.get(key, 0)

    def watchers(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    # --- waiting -----------------------------------------------------------------------------------

    def _add(self, key: str, waiter: Waiter) -> bool:
        """Register ``waiter``; False (and not registered) if the index already passed it."""
        with self._lock:
            current = (self._global if key == ALL else self._known.get(key)) if self._global is not None else None
            if current is not None and current > waiter.index:
                return False
            self._waiters[key].add(waiter)
            return True

    def _remove(self, key: str, waiter: Waiter) -> None:
        with self._lock:
            self._waiters[key].discard(waiter)
            if not self._waiters[key]:
                del self._waiters[key]

    async def wait_async(self, key: str, index: int, timeout: float) -> bool:
        """Until service ``key``'s index passes ``index`` (True) or ``timeout`` seconds pass (False)."""
        self.start()
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(event.set)

        waiter = Waiter(index, wake)
        if not self._add(key, waiter):
            return True
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._remove(key, waiter)

    def wait_sync(self, key: str, index: int, timeout: float) -> bool:
        """The same, holding the calling thread (the API under WSGI)."""
        self.start()
        event = threading.Event()
        waiter = Waiter(index, event.set)
        if not self._add(key, waiter):
            return True
        try:
            return event.wait(timeout)
        finally:
            self._remove(key, waiter)

    # --- the thread --------------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="registry-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        listener = None
        while True:
            try:
                if listener is None:
                    listener = _listen()
                self.poll()
                if listener is not None:
                    # Returns at the first notification or after the poll interval, whichever comes first.
                    for _ in listener.notifies(timeout=settings.DISCOVERY_POLL_S, stop_after=1):
                        pass
                else:
                    time.sleep(settings.DISCOVERY_POLL_S)
            except Exception as exc:  # the database went away: reconnect and carry on
                log.warning("registry watch: %s", exc)
                if listener is not None:
                    _close(listener)
                    listener = None
                close_old_connections()
                connection.close()
                time.sleep(max(settings.DISCOVERY_POLL_S, 0.5))

    def poll(self) -> None:
        """Read what changed since the last poll and wake whom it concerns."""
        index = current_index()
        if self._global is None:
            rows = list(Service.objects.values_list("name", "modify_index"))
        elif index != self._global:
            rows = list(Service.objects.filter(modify_index__gt=self._global).values_list("name", "modify_index"))
        else:
            rows = []
        woken: list[Waiter] = []
        with self._lock:
            first = self._global is None
            self._known.update(rows)
            moved = first or index != self._global
            self._global = index
            self._last_poll = time.monotonic()
            if moved:
                for key, waiters in self._waiters.items():
                    current = index if key == ALL else self._known.get(key, 0)
                    woken += [w for w in waiters if not w.woken and current > w.index]
                for waiter in woken:
                    waiter.woken = True
        for waiter in woken:
            waiter.wake()


def _listen() -> Any:
    """A PostgreSQL connection LISTENing on the registry's channel (None on other databases)."""
    if connection.vendor != "postgresql":
        return None
    import psycopg

    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=int(db.get("PORT") or 5432),
        dbname=db["NAME"],
        user=db.get("USER"),
        password=db.get("PASSWORD"),
        autocommit=True,
    )
    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
    return conn


def _close(listener: Any) -> None:
    try:
        listener.close()
    except Exception:  # already broken; nothing to release
        pass


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub (started on first use)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub()
        return _hub
