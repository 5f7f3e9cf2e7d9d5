"""One JSON error shape for every API path: ``{"error": "...", "fields": {"name": ["problem"]}}``.

Domain exceptions map to status codes here, so views just call the action functions. What the
client sent is never echoed at length: every message is cut to ``MAX_MESSAGE`` characters, so
a 100 KB value that is wrong answers a short 400, not a 200 KB one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from containers import engine
from containers.models import actor_name, record
from containers.refusals import QuotaRefused, Refused
from tenancy.access import access
from tenancy.errors import QuotaExceeded, TenancyError

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_MESSAGE = 300
MAX_FIELDS = 50

_ENGINE_STATUS: list[tuple[type[Exception], int, str | None]] = [
    (engine.EngineUnavailable, status.HTTP_503_SERVICE_UNAVAILABLE, None),
    (engine.ImageNotFound, status.HTTP_404_NOT_FOUND, "image"),
    (engine.ContainerNotFound, status.HTTP_404_NOT_FOUND, None),
    (engine.InvalidImageArchive, status.HTTP_400_BAD_REQUEST, "file"),
    (engine.PullFailed, status.HTTP_422_UNPROCESSABLE_ENTITY, "reference"),
    (engine.EngineConflict, status.HTTP_409_CONFLICT, None),
    (engine.EngineError, status.HTTP_502_BAD_GATEWAY, None),
]


def short(text: Any) -> str:
    """``text`` as a string of at most ``MAX_MESSAGE`` characters (what the client sent may be huge)."""
    text = str(text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def shortened(detail: Any) -> Any:
    """Field errors with every message and key cut short, and at most ``MAX_FIELDS`` entries a level."""
    if isinstance(detail, dict):
        return {short(key): shortened(value) for key, value in list(detail.items())[:MAX_FIELDS]}
    if isinstance(detail, list | tuple):
        return [shortened(item) for item in list(detail)[:MAX_FIELDS]]
    return short(detail)


def error_body(message: str, field: str | None = None, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": short(message)}
    if field:
        body["fields"] = {field: [short(message)]}
    elif fields:
        body["fields"] = shortened(fields)
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, (Refused, TenancyError)):
        if isinstance(exc, Refused):
            body = error_body(exc.message, fields=exc.fields)
        else:
            body = error_body(exc.message, exc.field)
        detail = getattr(exc, "detail", "")
        if detail:
            body["detail"] = short(detail)
        if isinstance(exc, (QuotaRefused, QuotaExceeded)):
            body |= {"quota": exc.quota, "limit": exc.limit, "would_reach": exc.would_reach}
        return Response(body, status=exc.status)
    for kind, code, field in _ENGINE_STATUS:
        if isinstance(exc, kind):
            return Response(error_body(str(exc), field), status=code)
    if isinstance(exc, RequestDataTooBig):
        too_large = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        return Response(error_body("the body is larger than the limit"), status=too_large)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad request"), status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = shortened(fields)
        first = next(iter(fields), "non_field_errors")
        response.data = {"error": short(f"invalid {first}: {_first_message(fields[first])}"), "fields": fields}
        _record_refusal(context, response.data)
    elif isinstance(exc, APIException):
        response.data = {"error": short(exc.detail)}
        if isinstance(exc, ParseError):
            _record_refusal(context, response.data)
    elif isinstance(response.data, dict) and "detail" in response.data:
        # Django's Http404 and PermissionDenied (get_object_or_404), which DRF answers as {"detail": ...}.
        response.data = {"error": short(response.data["detail"])}
    return response


def _record_refusal(context: dict[str, Any], body: dict[str, Any]) -> None:
    """A refused change leaves an event; the request's values are not copied (they may be secrets)."""
    request = context.get("request")
    if request is None or request.method in _SAFE_METHODS:
        return
    record(
        "request.refused",
        organization_id=access(request).organization_id,
        actor=actor_name(request.user),
        message=f"{request.method} {request.path}: {body['error']}"[:2000],
        after={"fields": sorted(body.get("fields", {}))},
    )


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key = next(iter(detail))
        return f"{key}: {_first_message(detail[key])}"
    return str(detail)
