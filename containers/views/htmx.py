"""What every console view that answers htmx shares: the stop-polling status and the logged-out guard."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRefresh

# htmx stops polling an element whose request is answered with this status.
STOP_POLLING = 286

View = Callable[..., HttpResponse]


def refresh_when_logged_out(view: View) -> View:
    """For a poll from an expired session, reload the page rather than swap the login form into a table.

    Without this, htmx follows ``login_required``'s redirect and puts the whole login page
    inside the dashboard. A full reload lets ``login_required`` redirect the browser itself.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            return HttpResponseClientRefresh()
        return view(request, *args, **kwargs)

    return wrapper
