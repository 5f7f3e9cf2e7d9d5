"""The seed's health paths. ``GET /health`` is the only path anyone may call without credentials."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from health import checks, container_health, integration, resources, sampler, supervision
from tenancy.access import access


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """Liveness of the web process only: no database, broker or engine call, so it stays fast."""
    return JsonResponse({"status": "ok"})


@extend_schema(
    responses={
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="Every component is ok"),
        503: OpenApiResponse(OpenApiTypes.OBJECT, description="The same report, with `failing` naming what is down"),
    }
)
@api_view(["GET"])
def health_detailed(request: Request) -> Response:
    """Each component's status, latency and detail; 200 only when every one is ok. Under ``make run``'s
    supervisor, ``processes`` has each process's state, uptime and restarts since the stack started."""
    started = time.perf_counter()
    results, infos = checks.run_all()
    overall = checks.overall(results)
    body = {
        "status": overall,
        "checked_at": timezone.now().isoformat(),
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "components": {name: check.as_dict() for name, check in results.items()},
        "failing": [name for name, check in results.items() if check.status != checks.OK],
        "sampler": sampler_status(),
        "processes": supervision.report(infos) if infos is not None else None,
    }
    return Response(body, status=status.HTTP_200_OK if overall == checks.OK else status.HTTP_503_SERVICE_UNAVAILABLE)


def sampler_status() -> dict[str, Any]:
    """The sampler's last round and how far behind its interval it is, as figures."""
    state = sampler.status()
    return {
        "last_round_at": state.last_round_at.isoformat() if state.last_round_at else None,
        "age_s": state.age_s,
        "lag_s": state.lag_s,
        "interval_s": state.interval_s,
        "duration_ms": state.detail.get("duration_ms"),
        "containers": state.detail.get("containers"),
        "sources": state.detail.get("sources"),
    }


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def system_resources(request: Request) -> Response:
    return Response(resources.report())


@extend_schema(
    responses={
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="Every part passed"),
        503: OpenApiResponse(OpenApiTypes.OBJECT, description="The same report, with `failed` naming the parts"),
    }
)
@api_view(["GET"])
def test_integration(request: Request) -> Response:
    """Exercise every part for real; 200 when all pass, 503 naming the parts that failed.

    Staff only: it starts a container on the shared engine, which is no single customer's to do.
    """
    if not access(request).staff:
        raise PermissionDenied("Only staff may run the integration test.")
    started = time.perf_counter()
    parts = integration.run()
    failed = [name for name, part in parts.items() if not part.passed]
    body = {
        "status": "failed" if failed else "passed",
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "parts": {name: part.as_dict() for name, part in parts.items()},
        "failed": failed,
    }
    return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE if failed else status.HTTP_200_OK)


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def container_instance_health(request: Request, id: str) -> Response:
    return Response(container_health.report(container_health.find(id, access(request))))
