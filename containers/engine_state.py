"""Whether the Docker engine answers right now, as every page and API answer that shows engine state reports it.

The rows the console and the API show (containers, their status, running counts) are the
database's mirror of the engine, kept by the reconciler. While the engine does not answer, that
mirror is stale: what it says ran may have died. Every view that shows such state asks
:func:`current` and says so (the console's banner, the API's ``engine`` object); the answer is
kept for ``CACHE_S`` seconds per process, so a busy page costs at most one ping per interval, and
a ping waits at most ``PING_TIMEOUT_S``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from containers import engine

CACHE_S = 2.0
PING_TIMEOUT_S = 2.0
UNAVAILABLE_MESSAGE = (
    "The Docker engine does not answer: container states are the last ones seen and may be stale; "
    "changes wait until it is back."
)


@dataclass(frozen=True)
class EngineState:
    available: bool
    checked_at: datetime
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "checked_at": self.checked_at.isoformat(),
            "error": self.error or None,
            "message": None if self.available else UNAVAILABLE_MESSAGE,
        }


_lock = threading.Lock()
# (when, which engine address, what it said)
_cached: tuple[float, str, EngineState] | None = None


def _fresh(cached: tuple[float, str, EngineState] | None) -> EngineState | None:
    if cached is None or time.monotonic() - cached[0] >= CACHE_S or cached[1] != settings.DOCKER_HOST:
        return None
    return cached[2]


def current() -> EngineState:
    """The engine's state, pinged at most once every ``CACHE_S`` seconds in this process."""
    global _cached
    state = _fresh(_cached)
    if state is not None:
        return state
    with _lock:
        state = _fresh(_cached)
        if state is not None:
            return state
        try:
            engine.ping(timeout=PING_TIMEOUT_S)
            state = EngineState(available=True, checked_at=timezone.now())
        except engine.EngineUnavailable as exc:
            # A client built while the engine was away may keep failing: build a new one next time.
            engine.reset_client()
            state = EngineState(available=False, checked_at=timezone.now(), error=str(exc)[:300])
        _cached = (time.monotonic(), settings.DOCKER_HOST, state)
        return state


def forget() -> None:
    """Ask again on the next call (after the engine's address changed, and in tests)."""
    global _cached
    with _lock:
        _cached = None
