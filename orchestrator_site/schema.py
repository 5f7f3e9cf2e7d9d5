"""OpenAPI operations grouped by what they are about, for Swagger UI's headings.

drf-spectacular's default tag is a path's first segment, which puts every ``/api/...`` operation
under one "api" heading. Here the richer API is grouped by resource (an ``/api/<segment>/`` path
gets the group its segment belongs to) and the prototype's paths, a contract other teams call,
stay together under "seed". An operation that names its tags keeps them.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

# /api/<segment>/ -> tag, where the segment is not the group's own name.
API_GROUPS = {
    "endpoints": "registry",
    "alert-rules": "health",
    "alert-deliveries": "health",
    "autoscalers": "health",
    "probes": "health",
    "members": "organizations",
    "tokens": "organizations",
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
