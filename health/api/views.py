"""``GET /api/containers/{id}/metrics/?range=15m|1h|24h|7d&resolution=raw|1m|1h``: a container's history."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from health import container_health, history
from tenancy.access import access


class HistoryQuery(serializers.Serializer):
    range = serializers.ChoiceField(choices=list(history.RANGES), default="1h")
    resolution = serializers.ChoiceField(choices=list(history.RESOLUTIONS), required=False)


class ContainerMetricsView(APIView):
    """Points ``[t, cpu_pct, mem_bytes, mem_pct, rx_bytes, tx_bytes]``, oldest first.

    Without ``resolution``: raw points up to 1 h, 1-minute buckets for 24 h, 1-hour buckets for 7 d.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("range", OpenApiTypes.STR, enum=list(history.RANGES), description="default 1h"),
            OpenApiParameter("resolution", OpenApiTypes.STR, enum=list(history.RESOLUTIONS)),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request: Request, id: str) -> Response:
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        range_name = query.validated_data["range"]
        resolution = query.validated_data.get("resolution") or history.DEFAULT_RESOLUTION[range_name]
        container = container_health.find(id, access(request))
        body = {
            "container": {
                "id": container.docker_id,
                "short_id": container.short_id,
                "pk": container.pk,
                "name": container.name,
                "deployment": container.deployment.name,
            },
            "range": range_name,
            "resolution": resolution,
            **history.points(container, range_name, resolution),
        }
        return Response(body)
