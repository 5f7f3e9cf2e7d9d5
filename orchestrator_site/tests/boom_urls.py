"""A URL map for ``test_errors.py``: the project's own, plus paths whose views fail on purpose."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.request import Request

from orchestrator_site.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


class Boom(Exception):
    """A failure nobody handles."""


@api_view(["GET"])
def api_boom(request: Request) -> HttpResponse:
    raise Boom("something no handler knows")


def console_boom(request: HttpRequest) -> HttpResponse:
    raise Boom("something no handler knows")


urlpatterns = [
    path("api/boom/", api_boom),
    path("containers-boom/", console_boom),
    path("console/boom/", console_boom),
    *urlpatterns,
]
