"""The console's engine banner: on every page, and refreshed every few seconds while the page is open.

The pages show the database's mirror of the engine; while the engine does not answer, the banner
says that what they show may be stale (``containers.engine_state``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from containers import engine_state
from containers.views.dashboard import refresh_when_logged_out


def engine_context(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``engine_state`` for logged-in pages (a cached ping, see ``engine_state``)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"engine_state": engine_state.current()}


@refresh_when_logged_out
@login_required
@require_GET
def engine_banner(request: HttpRequest) -> HttpResponse:
    return render(request, "containers/partials/engine_banner.html", {"engine_state": engine_state.current()})
