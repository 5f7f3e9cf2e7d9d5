"""The watch server's discovery paths: ``/api/services/`` and ``/api/services/{name}/``, async.

Hundreds of blocking queries wait here as coroutines on :mod:`registry.watch`'s hub, holding no
thread. ``application`` (what uvicorn serves: ``registry.asgi:application``) sends these paths to a
plain ASGI app and everything else to Django's own ASGI handler. A plain app rather than a Django
async view: Django runs each sync middleware's hooks through
one shared thread, which would make waking 500 watchers at once take most of a second. The
answers are the API's (``registry/api/services.py``), from the same ``registry.discovery``.

Authentication is the API's (its DRF authentication classes, a session cookie too); a client's
credentials are remembered for ``AUTH_CACHE_S`` so a conditional GET costs no query at all.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
django_application = get_asgi_application()  # sets Django up: the imports below need the app registry

from django.core.handlers.asgi import ASGIRequest  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.http.cookie import parse_cookie  # noqa: E402
from rest_framework.settings import api_settings  # noqa: E402

from registry import discovery  # noqa: E402
from registry.watch import ALL, hub  # noqa: E402

Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

PREFIX = "/api/services/"
AUTH_CACHE_S = 5.0
# credential -> (until, the organizations it may read: None for staff, who read every one)
_auth_cache: dict[str, tuple[float, frozenset[int] | None]] = {}
DENIED = frozenset[int]()
_authenticating: dict[str, asyncio.Future[frozenset[int] | None | bool]] = {}
# One database read per service at a time, however many ask (the hub keeps the result).
_loading: dict[str, asyncio.Future[discovery.Snapshot | None]] = {}
# Parsed query strings and rendered bodies (keyed by service, index and statuses), each bounded.
CACHE_LIMIT = 1024
_queries: dict[bytes, discovery.Query] = {}
_bodies: dict[tuple[str, int, tuple[str, ...]], bytes] = {}


def handles(scope: Scope) -> bool:
    """The list and one service's discovery; a service's sub-paths (``traffic/``) are Django's."""
    path = str(scope["path"])
    return scope["type"] == "http" and path.startswith(PREFIX) and "/" not in path[len(PREFIX) :].strip("/")


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """The watch server: discovery paths here, the rest (``/health``, the console) to Django."""
    if handles(scope):
        await app(scope, receive, send)
    else:
        await django_application(scope, receive, send)  # type: ignore[arg-type]  # the same ASGI callables


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    method = str(scope["method"])
    if method not in ("GET", "HEAD"):
        await _json(send, 405, {"error": f'Method "{method}" not allowed.'}, {"Allow": "GET, HEAD"})
        return
    headers = _headers_of(scope)
    allowed = await _authenticated(scope, headers)
    if allowed is False or allowed is True:  # True is never returned: narrows the type
        await _json(send, 401, {"error": "Authentication credentials were not provided."})
        return
    name = str(scope["path"])[len(PREFIX) :].strip("/")
    if "/" in name:
        await _json(send, 404, {"error": f"no service {name!r}", "fields": {"name": [f"no service {name!r}"]}})
        return
    try:
        query = _query(scope.get("query_string") or b"")
    except discovery.BadQuery as exc:
        await _json(send, 400, {"error": exc.message, "fields": {exc.field: [exc.message]}})
        return
    inm = headers.get("if-none-match")
    if name:
        await _service(send, inm, name, query, allowed)
    else:
        await _list(send, inm, query, allowed)


def _headers_of(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (repeated ones joined), straight from the ASGI scope:
    building a Django request for every conditional GET cost more than answering it."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in headers:
            value = f"{headers[name]}{'; ' if name == 'cookie' else ', '}{value}"
        headers[name] = value
    return headers


def _query(raw: bytes) -> discovery.Query:
    """The parsed query string; the few distinct ones clients send are parsed once."""
    query = _queries.get(raw)
    if query is None:
        query = discovery.parse_query(dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)))
        if len(_queries) >= CACHE_LIMIT:
            _queries.clear()
        _queries[raw] = query
    return query


async def _service(
    send: Send, inm: str | None, name: str, query: discovery.Query, allowed: frozenset[int] | None
) -> None:
    """One service, if the caller's organizations own it (tenancy): another's is a 404 like a missing one.

    The snapshot (owner included) is cached per index, so a conditional GET while nothing changed
    costs no query and no thread."""
    watch = hub()
    watch.start()
    known = watch.known(name)
    snapshot = _visible(await _snapshot(name, known), allowed)
    if snapshot is not None and query.index is None and known is not None and known == snapshot.index:
        tag = discovery.etag(known, query)
        if discovery.matches(inm, tag):
            await _not_modified(send, tag, known)
            return
    if snapshot is not None and query.index is not None and snapshot.index <= query.index:
        await watch.wait_async(name, query.index, query.wait_s)
        snapshot = _visible(await _snapshot(name, watch.known(name)), allowed)
    if snapshot is None:
        await _json(send, 404, {"error": f"no service {name!r}", "fields": {"name": [f"no service {name!r}"]}})
        return
    tag = discovery.etag(snapshot.index, query)
    if discovery.matches(inm, tag):
        await _not_modified(send, tag, snapshot.index)
        return
    await _send(send, 200, _rendered(snapshot, query), _headers(tag, snapshot.index))


def _visible(snapshot: discovery.Snapshot | None, allowed: frozenset[int] | None) -> discovery.Snapshot | None:
    """``snapshot`` if the caller may read it (staff: ``allowed`` is None), else None (a 404)."""
    if snapshot is None or allowed is None or snapshot.organization_id in allowed:
        return snapshot
    return None


async def _list(send: Send, inm: str | None, query: discovery.Query, allowed: frozenset[int] | None) -> None:
    """The caller's organizations' services (every one for staff)."""
    from registry.models import Service

    mine = Service.objects.all() if allowed is None else Service.objects.filter(organization_id__in=allowed)
    load = sync_to_async(discovery.list_body, thread_sensitive=False)
    index, data = await load(query, mine)
    if query.index is not None and index <= query.index:
        await hub().wait_async(ALL, query.index, query.wait_s)
        index, data = await load(query, mine)
    tag = discovery.etag(index, query, kind="all")
    if discovery.matches(inm, tag):
        await _not_modified(send, tag, index)
        return
    await _send(send, 200, discovery.render(data), _headers(tag, index))


async def _snapshot(name: str, known: int | None) -> discovery.Snapshot | None:
    """The service's snapshot: the hub's when it is current (the hub reads it before waking watchers),
    else read once for all who ask at the same time."""
    watch = hub()
    kept = watch.snapshot(name, known)
    if kept is not None:
        return kept
    pending = _loading.get(name)
    if pending is None:
        # A task of its own: a requester that goes away does not take the others' answer with it.
        pending = asyncio.ensure_future(sync_to_async(discovery.load, thread_sensitive=False)(name))
        _loading[name] = pending
        pending.add_done_callback(lambda done: _loaded(name, done))
    return await asyncio.shield(pending)


def _loaded(name: str, done: asyncio.Future[discovery.Snapshot | None]) -> None:
    del _loading[name]
    if not done.cancelled() and done.exception() is None:
        hub().keep(name, done.result())


def _rendered(snapshot: discovery.Snapshot, query: discovery.Query) -> bytes:
    """The body for ``snapshot`` and ``query``'s statuses, rendered once however many watchers it answers."""
    key = (snapshot.name, snapshot.index, query.statuses)
    body = _bodies.get(key)
    if body is None:  # the index is global: one service at one index always has the same endpoints
        body = discovery.render(discovery.body(snapshot, query))
        if len(_bodies) >= CACHE_LIMIT:
            _bodies.clear()
        _bodies[key] = body
    return body


async def _authenticated(scope: Scope, headers: dict[str, str]) -> frozenset[int] | None | bool:
    """False when nobody is signed in; else the organizations the caller may read (None: staff, all).

    Remembered per credential for ``AUTH_CACHE_S``; hundreds of watchers arriving at once with the same
    credential are checked once (the others wait for that answer)."""
    key = headers.get("authorization") or parse_cookie(headers.get("cookie", "")).get("sessionid") or ""
    if not key:
        return False
    cached = _auth_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    pending = _authenticating.get(key)
    if pending is None:
        # A task of its own: a requester that goes away does not take the others' answer with it.
        pending = asyncio.ensure_future(
            sync_to_async(_authenticate, thread_sensitive=False)(ASGIRequest(scope, io.BytesIO()))
        )
        _authenticating[key] = pending
        pending.add_done_callback(lambda done: _remember(key, done))
    return await asyncio.shield(pending)


def _remember(key: str, done: asyncio.Future[frozenset[int] | None | bool]) -> None:
    del _authenticating[key]
    if done.cancelled() or done.exception() is not None or done.result() is False:
        return
    if len(_auth_cache) > 10_000:
        _auth_cache.clear()
    _auth_cache[key] = (time.monotonic() + AUTH_CACHE_S, done.result())  # type: ignore[assignment]


def _authenticate(request: HttpRequest) -> frozenset[int] | None | bool:
    """The API's authentication classes (tokens), then the console's session; then tenancy's access."""
    from django.contrib.auth import get_user
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.db import close_old_connections
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request

    from tenancy.access import SESSION_KEY, resolve
    from tenancy.roles import READ

    close_old_connections()
    authenticators = [
        cls()  # type: ignore[operator]  # the setting holds classes once DRF imported them
        for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES
        if not issubclass(cls, SessionAuthentication)  # type: ignore[arg-type]
    ]
    wanted: int | None = None
    try:
        drf = Request(request, authenticators=authenticators)
        user, auth = drf.user, drf.auth
    except APIException:
        return False
    if user is None or not user.is_authenticated:
        SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type, return-value]
        user, auth = get_user(request), None
        if not user.is_authenticated:
            return False
        raw = request.session.get(SESSION_KEY)
        wanted = raw if isinstance(raw, int) else None
    who = resolve(user, auth, wanted)
    if who.staff:
        return None
    return frozenset({who.organization_id}) if who.organization_id and who.can(READ) else DENIED


def _headers(tag: str, index: int) -> dict[str, str]:
    return {"ETag": tag, "X-Registry-Index": str(index), "Cache-Control": "no-cache"}


async def _not_modified(send: Send, tag: str, index: int) -> None:
    await _send(send, 304, b"", _headers(tag, index))


async def _json(send: Send, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    await _send(send, status, json.dumps(data).encode(), headers or {})


async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if status != 304:
        raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body if status != 304 else b""})
