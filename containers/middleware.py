"""Turn an unreachable engine into a 503 page for console views (the API has its own handler)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse

from containers.engine import EngineUnavailable


class EngineUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, EngineUnavailable):
            return None
        response = SimpleTemplateResponse("engine_unavailable.html", {"message": str(exception)}, status=503)
        return response.render()
