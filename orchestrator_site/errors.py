"""Request ids, and the JSON error shape for failures that happen outside a DRF view.

Every request gets an id (a sane incoming ``X-Request-ID`` is kept, so a proxy's id follows the
request through), sent back in the ``X-Request-ID`` header. An exception nobody handled is logged
with that id and its traceback; on an API or seed path the answer is the project's JSON error,
``{"error": ..., "request_id": ...}`` with a 500, never Django's HTML page. Django's own 400, 403
and 404 answers (a body too large, a bad host, an unknown path) are JSON on those paths too.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

log = logging.getLogger("orchestrator.errors")

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The machine paths: the seed's contract and the API. Everything else is the console (HTML).
API_PREFIXES = ("/api/", "/containers", "/images", "/registry/", "/health", "/system/", "/test/", "/metrics")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def request_id(request: HttpRequest) -> str:
    """This request's id, made on first use."""
    rid = getattr(request, "request_id", None)
    if rid is None:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
    return rid


def json_error(request: HttpRequest, message: str, status: int, **extra: Any) -> JsonResponse:
    response = JsonResponse({"error": message, **extra}, status=status)
    response[HEADER] = request_id(request)
    return response


class RequestIdMiddleware:
    """First in the chain: names the request, answers unhandled exceptions (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id(request)
        response = self.get_response(request)
        response[HEADER] = rid
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        rid = request_id(request)
        _log_unhandled(request, exception)
        if not is_api_path(request.path):
            return None  # the console's own 500 page (handler500), which shows the id
        if isinstance(exception, OperationalError | InterfaceError):
            return json_error(request, "the database does not answer; try again", 503, request_id=rid)
        return json_error(request, f"internal error; it is logged as request {rid}", 500, request_id=rid)


# --- Django's error views (urls.py handler400/403/404/500), JSON on machine paths ----------------


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_path(request.path):
        return json_error(request, _first_line(exception) or "bad request", 400)
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_path(request.path):
        return json_error(request, _first_line(exception) or "permission denied", 403)
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_path(request.path):
        return json_error(request, f"no such path: {request.path[:200]}", 404)
    return defaults.page_not_found(request, exception, **kwargs)


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    rid = request_id(request)
    # Called inside Django's ``except``: an exception raised by a middleware is logged here.
    exception = sys.exc_info()[1]
    if isinstance(exception, Exception):
        _log_unhandled(request, exception)
    if is_api_path(request.path):
        return json_error(request, f"internal error; it is logged as request {rid}", 500, request_id=rid)
    response = defaults.server_error(request, **kwargs)
    response[HEADER] = rid
    return response


def _log_unhandled(request: HttpRequest, exception: Exception) -> None:
    if getattr(request, "_error_logged", False):
        return
    request._error_logged = True  # type: ignore[attr-defined]
    log.error(
        "unhandled %s on %s %s [request_id=%s]",
        exception.__class__.__name__,
        request.method,
        request.path[:200],
        request_id(request),
        exc_info=exception,
    )


def _first_line(exception: Exception) -> str:
    # Django's messages may quote what the client sent: cut them short rather than echo it all.
    text = str(exception).strip().splitlines()[0] if str(exception).strip() else ""
    return text[:200]
