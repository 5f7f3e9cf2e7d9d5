"""Service discovery, served the same way by the API (sync) and the watch server (async).

A client reads ``GET /api/services/{name}/``: the service's ``lb_url`` and its endpoints, with
an ``ETag`` and an ``index`` (``X-Registry-Index``) that grows with every change. It then asks
again with ``If-None-Match`` (304 while nothing changed) or blocks: ``?index=N&wait=30s``
answers as soon as the service's index passes N, or at the timeout with the same body (304 if
the client also sent a matching ``If-None-Match``).

This module parses the query, loads a snapshot from the database and renders bodies; the
waiting is :mod:`registry.watch`'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from registry.models import Service, ServiceEndpoint

STATUSES = tuple(ServiceEndpoint.Status.values)
DEFAULT_STATUS = (ServiceEndpoint.Status.HEALTHY,)
DEFAULT_WAIT_S = 30.0
_WAIT = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


class BadQuery(Exception):
    """A query parameter is wrong; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Query:
    statuses: tuple[str, ...]  # empty: every status
    index: int | None
    wait_s: float


def parse_query(params: Mapping[str, str]) -> Query:
    """``status`` (comma-separated, or ``any``; default healthy), ``index`` (an integer >= 0) and
    ``wait`` (``30s``, ``2m``, ``500ms`` or seconds; only with ``index``; at most DISCOVERY_MAX_WAIT_S)."""
    raw_status = (params.get("status") or ",".join(DEFAULT_STATUS)).strip().lower()
    if raw_status in ("any", "all"):
        statuses: tuple[str, ...] = ()
    else:
        statuses = tuple(sorted({s.strip() for s in raw_status.split(",") if s.strip()}))
        wrong = [s for s in statuses if s not in STATUSES]
        if wrong or not statuses:
            raise BadQuery("status", f"status must be any, or some of {', '.join(STATUSES)}; got {raw_status!r}")
    index = None
    if params.get("index") not in (None, ""):
        raw = str(params["index"]).strip()
        if not raw.isdigit():
            raise BadQuery("index", f"index must be a non-negative integer (an earlier response's index), got {raw!r}")
        index = int(raw)
    wait_s = DEFAULT_WAIT_S
    if params.get("wait") not in (None, ""):
        raw = str(params["wait"]).strip().lower()
        match = _WAIT.match(raw)
        if not match:
            raise BadQuery("wait", f"wait must be a duration such as 30s, 2m or 500ms, got {raw!r}")
        wait_s = float(match.group(1)) * _UNITS[match.group(2)]
        if wait_s > settings.DISCOVERY_MAX_WAIT_S:
            raise BadQuery("wait", f"wait must be at most {settings.DISCOVERY_MAX_WAIT_S:g}s, got {raw}")
    return Query(statuses=statuses, index=index, wait_s=wait_s)


@dataclass(frozen=True)
class Snapshot:
    """A live service and all its endpoints, as plain data, at one index."""

    name: str
    lb_url: str
    frontend_port: int
    index: int
    endpoints: tuple[dict[str, Any], ...]
    organization_id: int | None = None


def load(name: str, services: QuerySet[Service] | None = None) -> Snapshot | None:
    """The live service ``name`` among ``services`` (the caller's, from tenancy.scope; all when None),
    None if unknown, retired or another organization's; two queries."""
    rows_of = Service.objects.all() if services is None else services
    service = rows_of.filter(name=name, retired_at__isnull=True).first()
    if service is None:
        return None
    rows = ServiceEndpoint.objects.filter(service=name).values(
        "id", "host", "port", "protocol", "status", "container__docker_id", "updated_at"
    )
    endpoints = tuple(
        {
            "id": row["id"],
            "address": row["host"],
            "port": row["port"],
            "protocol": row["protocol"],
            "status": row["status"],
            "container": row["container__docker_id"],
            "since": row["updated_at"].isoformat(),
        }
        for row in rows.order_by("host", "port")
    )
    return Snapshot(
        service.name, service.lb_url, service.frontend_port, service.modify_index, endpoints, service.organization_id
    )


def body(snapshot: Snapshot, query: Query) -> dict[str, Any]:
    endpoints = [e for e in snapshot.endpoints if not query.statuses or e["status"] in query.statuses]
    return {
        "name": snapshot.name,
        "lb_url": snapshot.lb_url,
        "frontend_port": snapshot.frontend_port,
        "index": snapshot.index,
        "status": list(query.statuses) or "any",
        "endpoints": endpoints,
    }


def render(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def etag(index: int, query: Query, kind: str = "svc") -> str:
    statuses = "+".join(query.statuses) or "any"
    return f'"{kind}-{index}-{statuses}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Does an ``If-None-Match`` header name ``tag`` (weak comparison, lists, ``*``)?"""
    if not if_none_match:
        return False
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


def list_body(query: Query, services_of: QuerySet[Service] | None = None) -> tuple[int, dict[str, Any]]:
    """Every live service with its endpoint counts (those in ``query.statuses``, and all), and the global index."""
    from registry.services import current_index

    index = current_index()
    wanted = Q(status__in=query.statuses) if query.statuses else Q()
    counts = {
        row["service"]: row
        for row in ServiceEndpoint.objects.values("service").annotate(
            total=Count("id"), matching=Count("id", filter=wanted)
        )
    }
    services = []
    for service in (
        (Service.objects.all() if services_of is None else services_of).filter(retired_at__isnull=True).order_by("name")
    ):
        row: Any = counts.get(service.name, {})
        services.append(
            {
                "name": service.name,
                "lb_url": service.lb_url,
                "index": service.modify_index,
                "endpoints": row.get("matching", 0),
                "endpoints_total": row.get("total", 0),
            }
        )
    return index, {"index": index, "status": list(query.statuses) or "any", "services": services}
