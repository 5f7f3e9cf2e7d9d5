"""Throttling of failed API-token attempts per client address (console logins: django-axes).

A failed token lookup happens during DRF's authentication, before its throttles run, so guesses
are counted here: more than ``TOKEN_FAILURE_LIMIT`` failures from one address within
``TOKEN_FAILURE_WINDOW_S`` and every token request from it answers 429 until the window passes.
Counts live in Django's cache (per process with the default cache, shared with Redis as the cache).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled


def _key(request: Any) -> str:
    return f"tenancy:token-failures:{request.META.get('REMOTE_ADDR', '')}"


def check(request: Any) -> None:
    """Raise 429 while this address is over the limit."""
    failures = cache.get(_key(request)) or []
    window = settings.TOKEN_FAILURE_WINDOW_S
    recent = [t for t in failures if t > time.time() - window]
    if len(recent) >= settings.TOKEN_FAILURE_LIMIT:
        raise Throttled(wait=max(1, int(recent[0] + window - time.time())), detail="Too many failed token attempts.")


def record_failure(request: Any) -> None:
    window = settings.TOKEN_FAILURE_WINDOW_S
    now = time.time()
    failures = [t for t in (cache.get(_key(request)) or []) if t > now - window]
    failures.append(now)
    cache.set(_key(request), failures[-(settings.TOKEN_FAILURE_LIMIT + 1) :], timeout=int(window) + 1)
