"""``limit`` / ``offset`` for the seed's list paths (``GET /containers``, ``GET /registry/endpoints``).

The prototype answered with every row; with thousands that is one huge response built in memory
for each call. Its clients read ``total`` and a list, so the shape stays and the list becomes one
page: ``limit`` rows (default ``SEED_LIST_DEFAULT_LIMIT``, at most ``SEED_LIST_MAX_LIMIT``) from
``offset``, with ``total`` still counting every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

PARAMETERS = [
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description="Rows per answer (default SEED_LIST_DEFAULT_LIMIT = 500, at most SEED_LIST_MAX_LIMIT = 1000)",
    ),
    OpenApiParameter("offset", OpenApiTypes.INT, description="Rows to skip (default 0)"),
]


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int

    def as_dict(self) -> dict[str, int]:
        return {"limit": self.limit, "offset": self.offset}


def window(request: Request) -> Window:
    """The requested window; a bad ``limit`` or ``offset`` is a 400 naming it."""
    problems: dict[str, list[str]] = {}
    maximum = settings.SEED_LIST_MAX_LIMIT
    limit = _integer(request, "limit", settings.SEED_LIST_DEFAULT_LIMIT, 1, maximum, problems)
    offset = _integer(request, "offset", 0, 0, 10**12, problems)
    if problems:
        raise ValidationError(problems)
    return Window(limit, offset)


def _integer(request: Request, name: str, default: int, low: int, high: int, problems: dict[str, list[str]]) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit():
        problems[name] = [f"must be a whole number from {low} to {high}, got {raw[:40]!r}"]
        return default
    value = int(raw)
    if not low <= value <= high:
        problems[name] = [f"must be from {low} to {high}, got {value}"]
    return value
