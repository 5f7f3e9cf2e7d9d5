"""What keeps the schemathesis run (``test_api_fuzz.py``) bounded and on this machine.

Generic on purpose: the hooks look at the names of body fields and path parameters, never at
endpoints, so an endpoint added later is fuzzed without anything written for it here.

- counts (``count``, ``replicas``, ``*_replicas``) above ``MAX_FUZZ_REPLICAS`` are cut down to it,
  so a generated start never asks the shared engine for a hundred containers;
- an image ``reference`` is pulled from the test registry on 127.0.0.1, and any URL field
  (``*_url``) points at 127.0.0.1: no request of the run leaves the loopback;
- a numeric ``id`` on a path that deletes images is swapped for the run's own disposable tag,
  so the run never removes an image another test (or another helper's run) relies on;
- a blocking query (an ``index`` query parameter) waits 50 ms, not its 30 s default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.test import override_settings

from registry.discovery import BadQuery, parse_query

MAX_FUZZ_REPLICAS = 2
REGISTRY = os.environ.get("TEST_REGISTRY", "127.0.0.1:5000")
_COUNT_FIELDS = ("count", "replicas")
# Filled by the fixture: the pk of an image row the run may delete (its own tag of the demo image).
DISPOSABLE: dict[str, int] = {}


@contextmanager
def bounded() -> Iterator[None]:
    """Settings for the run: few replicas, and no five-second waits for a worker no test started."""
    with override_settings(MAX_REPLICAS=MAX_FUZZ_REPLICAS, INTEGRATION_WORKER_TIMEOUT_S=0.5):
        yield


def _cap(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_FUZZ_REPLICAS:
        return MAX_FUZZ_REPLICAS
    return value


def _loopback_url(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if not parts.netloc:
        return value
    return urlunsplit((parts.scheme, "127.0.0.1:9", parts.path, parts.query, parts.fragment))


def _local_reference(value: Any) -> Any:
    if not isinstance(value, str) or value.startswith(f"{REGISTRY}/"):
        return value
    return f"{REGISTRY}/{value.lstrip('/')}"


def bound_body(body: Any) -> Any:
    """The body with counts capped, URLs on loopback and pulls from the local registry (recursively)."""
    if isinstance(body, list):
        return [bound_body(item) for item in body]
    if not isinstance(body, dict):
        return body
    bounded_body: dict[str, Any] = {}
    for key, value in body.items():
        name = str(key)
        if name in _COUNT_FIELDS or name.endswith("_replicas"):
            value = _cap(value)
        elif name.endswith("_url") or name == "url":
            value = _loopback_url(value)
        elif name == "reference":
            value = _local_reference(value)
        else:
            value = bound_body(value)
        bounded_body[key] = value
    return bounded_body


def bound_wait(query: Any) -> Any:
    """A blocking query (``index`` with a valid or absent ``wait``) waits at most 50 ms here: the
    fuzzer's index is rarely the current one, so each would hold for its whole wait (30 s by default).
    A ``wait`` the API must refuse is left as it is, so the refusals are still fuzzed."""
    if not isinstance(query, dict) or "index" not in query:
        return query
    wait = query.get("wait")
    if wait not in (None, ""):
        try:
            parse_query({"index": "0", "wait": str(wait)})
        except BadQuery:
            return query
    return {**query, "wait": "50ms"}


def map_case(context: Any, case: Any) -> Any:
    """Schemathesis' ``map_case`` hook, registered on the run's schema only."""
    case.body = bound_body(case.body)
    case.query = bound_wait(case.query)
    path = case.operation.path
    if case.method.upper() == "DELETE" and "image" in path and "{id}" in path and DISPOSABLE:
        case.path_parameters = {**(case.path_parameters or {}), "id": DISPOSABLE["image"]}
    return case
