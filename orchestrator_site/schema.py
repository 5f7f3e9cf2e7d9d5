"""The OpenAPI schema's operations: grouped by what they are about, and with every error they can answer.

drf-spectacular's default tag is a path's first segment, which puts every ``/api/...`` operation
under one "api" heading. Here the richer API is grouped by resource (an ``/api/<segment>/`` path
gets the group its segment belongs to) and the prototype's paths, a contract other teams call,
stay together under "seed". An operation that names its tags keeps them.

Every API path answers errors with one JSON shape, ``{"error": "...", "fields": {"name": [...]}}``
(``containers.api.errors``). Which statuses an operation can answer follows from what it is, so
they are added here from its method, parameters and body rather than repeated on each view:

- 401 and 403 everywhere (every path needs credentials; a session also needs its CSRF token);
- 400 where there is a body or a query to validate; 404 where the path or the body names
  something (an image to pull), or the list is paginated (a page past the end); 409, 415 and 502
  for changes (a refusal or a conflict, a body that is not JSON, the engine refusing);
- 503 everywhere: the engine or the database does not answer.

A view's own ``@extend_schema(responses=...)`` keeps its description for a status it names.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ERROR_DESCRIPTIONS = {
    "400": "Bad input: `error` says what is wrong, `fields` names each field and its problems",
    "401": "No credentials, or wrong ones",
    "403": "Not allowed (a session without its CSRF token, or a role that may not do this)",
    "404": "No such object (or a page past the end of the list)",
    "409": "Refused by the current state: not enough host resources, a duplicate, something in use or busy",
    "413": "The body is larger than the limit",
    "415": "The body's Content-Type is not one this operation reads",
    "502": "The engine refused the request",
    "503": "The engine or the database does not answer; nothing was changed",
}

ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": serializers.CharField(help_text="What is wrong, in one sentence"),
        "fields": serializers.DictField(
            required=False, help_text='Each field that is wrong and its problems, e.g. {"count": ["..."]}'
        ),
        "request_id": serializers.CharField(
            required=False, help_text="On a 500: the id the failure is logged under (also the X-Request-ID header)"
        ),
    },
)


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer, from what it is (see the module docstring)."""
    parameters = operation.get("parameters", [])
    query = [p for p in parameters if p.get("in") == "query"]
    codes = ["401", "403", "503"]
    if method in UNSAFE or query:
        codes.append("400")
    if "{" in path or method in UNSAFE or any(p.get("name") == "page" for p in query):
        codes.append("404")
    if method in UNSAFE:
        codes += ["409", "502"]
    if "requestBody" in operation:
        codes.append("415")
    return sorted(codes)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the error answers every operation can give (see the module)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        error = self._get_response_for_code(ErrorSerializer, "400")
        for code in error_statuses(self.method, self.path, operation):
            if code not in responses:
                responses[code] = {**error, "description": ERROR_DESCRIPTIONS[code]}
        return operation


# /api/<segment>/ -> tag, where the segment is not the group's own name.
API_GROUPS = {
    "endpoints": "registry",
    "services": "registry",
    "alert-rules": "health",
    "alert-deliveries": "health",
    "autoscalers": "health",
    "probes": "health",
    "members": "organizations",
    "tokens": "organizations",
    "usage": "billing",
    "invoices": "billing",
}
SEED = "seed"


def tag_for(path: str) -> str:
    """The group of an operation on ``path`` (``/api/deployments/{id}/scale/`` -> ``deployments``)."""
    parts = [part for part in path.split("/") if part]
    if len(parts) < 2 or parts[0] != "api":
        return SEED
    return API_GROUPS.get(parts[1], parts[1])


class GroupedAutoSchema(AutoSchema):
    """Tags every operation by :func:`tag_for` unless it names its own."""

    def get_tags(self) -> list[str]:
        return [tag_for(self.path)]
