"""How the API says whether the engine answers, on every answer that shows engine state.

- A list of containers or deployments (``/api/containers/``, ``/api/deployments/``, the seed's
  ``GET /containers``) carries an ``engine`` object: ``available``, ``checked_at``, ``error`` and,
  while it is down, a ``message`` saying the states shown are the last ones seen.
- Each container and deployment object carries ``engine_available``.
- Answers that need the engine itself (a start, a restart, logs, the images, a container's
  health, the host's resources) are a 503 with ``error`` while it does not answer.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from containers import engine_state

EngineStateSerializer = inline_serializer(
    "EngineState",
    {
        "available": serializers.BooleanField(help_text="False: the engine does not answer; states may be stale"),
        "checked_at": serializers.DateTimeField(),
        "error": serializers.CharField(allow_null=True, help_text="Why it does not answer"),
        "message": serializers.CharField(allow_null=True, help_text="What that means for the states shown"),
    },
)


ENGINE_STATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Whether the engine answers; while it does not, the states shown are the last ones seen",
    "properties": {
        "available": {"type": "boolean"},
        "checked_at": {"type": "string", "format": "date-time"},
        "error": {"type": "string", "nullable": True},
        "message": {"type": "string", "nullable": True},
    },
    "required": ["available", "checked_at", "error", "message"],
}


def engine_object() -> dict[str, Any]:
    return engine_state.current().as_dict()


@extend_schema_field(
    {"type": "boolean", "readOnly": True, "description": "False while the engine does not answer: status may be stale"}
)
class EngineAvailableField(serializers.Field):
    """``engine_available`` on an object: read from the cached state, no query and at most one ping."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> bool:
        return engine_state.current().available


class EngineStatePagination(PageNumberPagination):
    """The default page, plus the ``engine`` object."""

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["engine"] = engine_object()
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["engine"] = ENGINE_STATE_SCHEMA
        paginated["required"] = [*paginated.get("required", []), "engine"]
        return paginated
