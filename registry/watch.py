"""Blocking queries without a thread per watcher: one hub per process follows the registry index.

A daemon thread reads the global index (at once when :mod:`registry.notifications` hears of a
commit, PostgreSQL ``NOTIFY`` or Redis pub/sub, and every ``DISCOVERY_POLL_S`` in any case), then
which services moved, and wakes the waiters whose index they passed. An async waiter is an ``asyncio.Event`` set
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
from contextlib import suppress
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection

from registry import discovery, notifications
from registry.models import Service
from registry.services import current_index

log = logging.getLogger(__name__)

ALL = ""  # the key of list watchers: any service's change wakes them
SNAPSHOTS_KEPT = 1024  # services whose latest snapshot is kept in memory
LISTEN_RETRY_S = 5.0  # a lost notification source is tried again this often


@dataclass(eq=False)
class Waiter:
    """One blocking query: an asyncio future (the watch server) or a thread's wake-up (WSGI)."""

    index: int
    future: asyncio.Future[None] | None = None
    wake: Callable[[], None] | None = None
    woken: bool = field(default=False)


class Hub:
    """The registry index as this process last saw it, and the waiters on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, int] = {}
        self._global: int | None = None
        self._waiters: dict[str, set[Waiter]] = defaultdict(set)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._last_poll = 0.0
        self._snapshots: dict[str, discovery.Snapshot] = {}

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

    def snapshot(self, name: str, index: int | None) -> discovery.Snapshot | None:
        """Service ``name``'s snapshot if one at ``index`` is kept (None otherwise)."""
        kept = self._snapshots.get(name)
        return kept if kept is not None and index is not None and kept.index == index else None

    def keep(self, name: str, snapshot: discovery.Snapshot | None) -> None:
        """Remember ``snapshot`` as service ``name``'s latest (forget it on None: unknown or retired)."""
        if snapshot is None:
            self._snapshots.pop(name, None)
            return
        if len(self._snapshots) >= SNAPSHOTS_KEPT and name not in self._snapshots:
            self._snapshots.clear()
        self._snapshots[name] = snapshot

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
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = Waiter(index, future=future)
        if not self._add(key, waiter):
            return True
        try:
            async with asyncio.timeout(timeout):
                await future
            return True
        except TimeoutError:
            return False
        finally:
            self._remove(key, waiter)

    def wait_sync(self, key: str, index: int, timeout: float) -> bool:
        """The same, holding the calling thread (the API under WSGI)."""
        self.start()
        event = threading.Event()
        waiter = Waiter(index, wake=event.set)
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
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="registry-watch", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (it closes its database connection); the next waiter starts it again.
        For a process that outlives its database, such as a test run dropping its test database."""
        with self._lock:
            thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._stopping.set()
        thread.join(timeout)

    def _run(self) -> None:
        listener: notifications.Listener | None = None
        listen_at = 0.0  # when to (re)try subscribing; the poll goes on meanwhile
        try:
            while not self._stopping.is_set():
                listener, listen_at = self._step(listener, listen_at)
        finally:
            if listener is not None:
                with suppress(Exception):
                    listener.close()
            self._drop_connection()

    def _step(
        self, listener: notifications.Listener | None, listen_at: float
    ) -> tuple[notifications.Listener | None, float]:
        """One poll, then a wait for a notification or the poll interval; what to listen with next."""
        try:
            if listener is None and time.monotonic() >= listen_at:
                listener = self._listen()
                listen_at = time.monotonic() + LISTEN_RETRY_S
            self.poll()
            if listener is None:
                self._stopping.wait(settings.DISCOVERY_POLL_S)
                return listener, listen_at
            try:
                # Returns at the first notification or after the poll interval, whichever comes first.
                listener.wait(settings.DISCOVERY_POLL_S)
            except Exception as exc:  # the notification source went away: poll until it is back
                log.warning("registry watch: notifications lost: %s", exc)
                listener.close()
                listener = None
        except Exception as exc:  # the database went away: reconnect and carry on
            log.warning("registry watch: %s", exc)
            self._drop_connection()
            self._stopping.wait(max(settings.DISCOVERY_POLL_S, 0.5))
        return listener, listen_at

    @staticmethod
    def _drop_connection() -> None:
        """Forget this thread's database connection. Checking a connection to a database that is
        down raises too, and that must not end the thread: it is what keeps every watcher's index."""
        with suppress(Exception):
            close_old_connections()
        with suppress(Exception):
            connection.close()

    @staticmethod
    def _listen() -> notifications.Listener | None:
        try:
            return notifications.listen()
        except Exception as exc:
            log.warning("registry watch: no notifications (polling every %ss): %s", settings.DISCOVERY_POLL_S, exc)
            return None

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
        services: set[str] = set()  # whose async waiters wake: their snapshot is read here, once
        with self._lock:
            first = self._global is None
            self._known.update(rows)
            moved = first or index != self._global
            self._global = index
            self._last_poll = time.monotonic()
            if moved:
                for key, waiters in self._waiters.items():
                    current = index if key == ALL else self._known.get(key, 0)
                    due = [w for w in waiters if not w.woken and current > w.index]
                    woken += due
                    if key != ALL and any(w.future is not None for w in due):
                        services.add(key)
                for waiter in woken:
                    waiter.woken = True
        for name in services:
            # Read in this thread before waking the event loop: hundreds of woken coroutines then
            # answer from memory instead of waiting together on one read in an executor thread.
            try:
                self.keep(name, discovery.load(name))
            except Exception as exc:  # the waiters read it themselves
                log.warning("registry watch: could not read %s: %s", name, exc)
        _wake(woken)


def _wake(woken: list[Waiter]) -> None:
    """Wake threads one by one, and each event loop's futures with one call into that loop: hundreds of
    ``call_soon_threadsafe`` would each write to the loop's self-pipe and wake it."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(list)
    for waiter in woken:
        if waiter.future is not None:
            by_loop[waiter.future.get_loop()].append(waiter.future)
        elif waiter.wake is not None:
            waiter.wake()
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, futures)
        except RuntimeError:  # that loop is closed: its waiters went with it
            pass


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a waiter that timed out meanwhile was cancelled
            future.set_result(None)


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub (started on first use)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub()
        return _hub


def stop() -> None:
    """End this process's hub thread if one runs (:meth:`Hub.stop`)."""
    if _hub is not None:
        _hub.stop()
