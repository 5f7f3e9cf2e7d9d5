"""``GET /api/services/`` and ``GET /api/services/{name}/`` on the API server (sync, under WSGI).

The same answers as the watch server's (``registry/asgi.py``), from the same functions in
``registry.discovery``; a blocking query here holds a worker thread while it waits, so watchers
should use the watch server (README: Service discovery).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from containers.api.errors import error_body
from registry import discovery, haproxy, loadbalancer
from registry.models import Service, ServiceEndpoint
from registry.watch import ALL, hub
from tenancy.access import access
from tenancy.scope import scope

PARAMETERS = [
    OpenApiParameter("status", str, description="Endpoint statuses to list: comma-separated, or any (default healthy)"),
    OpenApiParameter("index", int, description="Block until the index passes this one (a blocking query)"),
    OpenApiParameter("wait", str, description="How long a blocking query waits: 30s (default), 2m, 500ms"),
]


def _headers(tag: str, index: int) -> dict[str, str]:
    return {"ETag": tag, "X-Registry-Index": str(index), "Cache-Control": "no-cache"}


def _bad(exc: discovery.BadQuery) -> Response:
    return Response(error_body(exc.message, exc.field), status=status.HTTP_400_BAD_REQUEST)


@extend_schema(operation_id="services_list", parameters=PARAMETERS, responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def service_list(request: Request) -> Response:
    """Every service with its LB URL and endpoint counts; ``index`` grows with any change."""
    try:
        query = discovery.parse_query(request.query_params)
    except discovery.BadQuery as exc:
        return _bad(exc)
    mine = scope(Service.objects.all(), access(request))
    index, data = discovery.list_body(query, mine)
    if query.index is not None and index <= query.index:
        hub().wait_sync(ALL, query.index, query.wait_s)
        index, data = discovery.list_body(query, mine)
    tag = discovery.etag(index, query, kind="all")
    if discovery.matches(request.headers.get("If-None-Match"), tag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=_headers(tag, index))
    return Response(data, headers=_headers(tag, index))


@extend_schema(operation_id="services_retrieve", parameters=PARAMETERS, responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def service_detail(request: Request, name: str) -> Response:
    """One service: its ``lb_url`` and endpoints (address, port, status, container, since)."""
    try:
        query = discovery.parse_query(request.query_params)
    except discovery.BadQuery as exc:
        return _bad(exc)
    mine = scope(Service.objects.all(), access(request))
    snapshot = discovery.load(name, mine)
    if snapshot is not None and query.index is not None and snapshot.index <= query.index:
        hub().wait_sync(name, query.index, query.wait_s)
        snapshot = discovery.load(name, mine)
    if snapshot is None:
        return Response(error_body(f"no service {name!r}", "name"), status=status.HTTP_404_NOT_FOUND)
    tag = discovery.etag(snapshot.index, query)
    if discovery.matches(request.headers.get("If-None-Match"), tag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=_headers(tag, snapshot.index))
    return Response(discovery.body(snapshot, query), headers=_headers(tag, snapshot.index))


@extend_schema(
    operation_id="services_traffic",
    summary="HAProxy's live view of a service's endpoints: state, sessions, request rate (needs the load balancer)",
    responses={
        200: OpenApiTypes.OBJECT,
        404: OpenApiResponse(description="No such service"),
        503: OpenApiResponse(description="The load balancer is off or HAProxy does not answer"),
    },
)
@api_view(["GET"])
def service_traffic(request: Request, name: str) -> Response:
    """What only the load balancer knows about a service: each endpoint's HAProxy state (ready, drain, down),
    its check, current sessions, session rate and total. A 503 saying why when HAProxy cannot be asked."""
    # Another organization's service is as missing as an unknown one.
    service = scope(Service.objects.all(), access(request)).filter(name=name, retired_at__isnull=True).first()
    if service is None:
        return Response(error_body(f"no service {name!r}", "name"), status=status.HTTP_404_NOT_FOUND)
    if not settings.LB_ENABLED:
        message = "the load balancer is disabled (LB_ENABLED=0): no traffic figures"
        return Response(error_body(message), status=status.HTTP_503_SERVICE_UNAVAILABLE)
    try:
        stats = loadbalancer.service_stats()
    except haproxy.LoadBalancerError as exc:
        message = f"HAProxy does not answer ({exc}); the load balancer tick starts it again"
        return Response(error_body(message), status=status.HTTP_503_SERVICE_UNAVAILABLE)
    endpoints = []
    for endpoint in ServiceEndpoint.objects.filter(service=name).select_related("container").order_by("host", "port"):
        figures = stats.get((name, endpoint.host, endpoint.port)) or stats.get(
            (name, loadbalancer.address(endpoint.host) or "", endpoint.port)
        )
        endpoints.append(
            {
                "id": endpoint.pk,
                "address": endpoint.host,
                "port": endpoint.port,
                "status": endpoint.status,
                "container": endpoint.container.docker_id if endpoint.container else None,
                "haproxy": figures,
            }
        )
    return Response({"name": name, "lb_url": service.lb_url, "endpoints": endpoints})
