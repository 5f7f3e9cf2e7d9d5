"""Service endpoints over HTTP: the seed's ``/registry/endpoints`` paths and the ``/api/endpoints/`` viewset.

Both call the same actions in ``registry.endpoints``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from containers.api import paging
from containers.api.errors import error_body
from containers.models import actor_name
from containers.refusals import NotFound
from registry import endpoints
from registry.api.serializers import ServiceEndpointSerializer, StatusSerializer
from registry.filtersets import ServiceEndpointFilterSet
from registry.models import ServiceEndpoint
from tenancy.access import access
from tenancy.permissions import require
from tenancy.scope import scope


def endpoint_queryset(request: Request) -> QuerySet[ServiceEndpoint]:
    # The serializer shows the container's docker id and deployment name: joined, not one query per row.
    return scope(ServiceEndpoint.objects.select_related("container__deployment"), access(request))


def _register(request: Request) -> Response:
    require(request)
    serializer = ServiceEndpointSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        endpoint = endpoints.register(
            actor=actor_name(request.user), organization=access(request).organization, **serializer.validated_data
        )
    except endpoints.DuplicateEndpoint as exc:
        return Response(error_body(exc.message, fields=exc.fields), status=status.HTTP_409_CONFLICT)
    return Response(ServiceEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


def _set_status(request: Request, endpoint: ServiceEndpoint) -> Response:
    require(request)
    serializer = StatusSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    endpoints.set_status(endpoint, serializer.validated_data["status"], actor=actor_name(request.user))
    return Response(ServiceEndpointSerializer(endpoint).data)


def _get(request: Request, pk: str) -> ServiceEndpoint:
    """The caller's endpoint ``pk``; another organization's is a 404 like a missing one."""
    endpoint = endpoint_queryset(request).filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 19 else None
    if endpoint is None:
        raise NotFound(f"no service endpoint {pk!r}", field="id")
    return endpoint


# --- the seed's paths -------------------------------------------------------------------


@extend_schema(
    methods=["POST"],
    operation_id="registry_endpoints_create",
    request=ServiceEndpointSerializer,
    responses={201: ServiceEndpointSerializer},
)
@extend_schema(
    methods=["GET"],
    operation_id="registry_endpoints_list",
    parameters=paging.PARAMETERS,
    responses=inline_serializer(
        "SeedEndpointList",
        {
            "count": serializers.IntegerField(help_text="Endpoints in this answer"),
            "total": serializers.IntegerField(help_text="Endpoints the filter matches"),
            "limit": serializers.IntegerField(),
            "offset": serializers.IntegerField(),
            "endpoints": ServiceEndpointSerializer(many=True),
        },
    ),
)
@api_view(["GET", "POST"])
def endpoint_list(request: Request) -> Response:
    """``GET`` lists a page (filter by ``service``, ``status``, ...; ``limit``/``offset``); ``POST`` registers."""
    if request.method == "POST":
        return _register(request)
    filterset = ServiceEndpointFilterSet(request.query_params, queryset=endpoint_queryset(request))
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    page = paging.window(request)
    matched = filterset.qs.order_by("service", "host", "port", "pk")
    rows = ServiceEndpointSerializer(matched[page.offset : page.offset + page.limit], many=True).data
    return Response({"count": len(rows), "total": matched.count(), **page.as_dict(), "endpoints": rows})


@extend_schema(methods=["GET"], operation_id="registry_endpoint_retrieve", responses=ServiceEndpointSerializer)
@extend_schema(methods=["DELETE"], operation_id="registry_endpoint_destroy", responses=OpenApiTypes.OBJECT)
@api_view(["GET", "DELETE"])
def endpoint_detail(request: Request, pk: str) -> Response:
    endpoint = _get(request, pk)
    if request.method == "DELETE":
        require(request)
        body: dict[str, Any] = {"removed": ServiceEndpointSerializer(endpoint).data}
        endpoints.remove(endpoint, actor=actor_name(request.user))
        return Response(body)
    return Response(ServiceEndpointSerializer(endpoint).data)


@extend_schema(request=StatusSerializer, responses=ServiceEndpointSerializer)
@api_view(["PUT", "PATCH", "POST"])
def endpoint_status(request: Request, pk: str) -> Response:
    """``{"status": "healthy" | "unhealthy" | "draining" | "unknown"}``."""
    return _set_status(request, _get(request, pk))


# These look their endpoint up before checking the role, so another organization's id is a 404.
endpoint_detail.cls.tenancy_lookup_first = True  # type: ignore[attr-defined]
endpoint_status.cls.tenancy_lookup_first = True  # type: ignore[attr-defined]
endpoint_list.cls.tenancy_lookup_first = True  # type: ignore[attr-defined]  # POST checks in _register


# --- the API ---------------------------------------------------------------------------------


class ServiceEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Service endpoints: list (filtered, paginated), register, remove, and set a status."""

    serializer_class = ServiceEndpointSerializer
    filterset_class = ServiceEndpointFilterSet
    ordering_fields = ["service", "host", "port", "status", "created_at", "updated_at"]

    def get_queryset(self) -> QuerySet[ServiceEndpoint]:
        return endpoint_queryset(self.request)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _register(request)

    def perform_destroy(self, instance: ServiceEndpoint) -> None:
        endpoints.remove(instance, actor=actor_name(self.request.user))

    @extend_schema(request=StatusSerializer, responses=ServiceEndpointSerializer)
    @action(detail=True, methods=["put", "post"])
    def status(self, request: Request, pk: str | None = None) -> Response:
        return _set_status(request, self.get_object())
