"""What every console view that answers htmx shares: the stop-polling status, the logged-out guard, and the
guard that sends a browser opening a partial's URL directly to the page the partial belongs to."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRefresh
from django_htmx.middleware import HtmxDetails

# htmx stops polling an element whose request is answered with this status.
STOP_POLLING = 286


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: ``request.htmx`` says whether (and how) htmx sent it."""

    htmx: HtmxDetails


View = Callable[..., HttpResponse]


def refresh_when_logged_out(view: View) -> View:
    """For a poll from an expired session, reload the page rather than swap the login form into a table.

    Without this, htmx follows ``login_required``'s redirect and puts the whole login page
    inside the dashboard. A full reload lets ``login_required`` redirect the browser itself.
    """

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.htmx and not request.user.is_authenticated:
            return HttpResponseClientRefresh()
        return view(request, *args, **kwargs)

    return wrapper


def partial_of(page: str, *, keep_query: bool = False) -> Callable[[View], View]:
    """Mark a view as a partial of ``page`` (a URL name, reversed with the view's own arguments).

    htmx gets the fragment (varying on ``HX-Request``, so a cache never serves it as the page); a
    browser opening the partial's URL is redirected to the page, with the query string when
    ``keep_query`` (a sorted or filtered list keeps its order).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not request.htmx:
                url = reverse(page, kwargs=kwargs or None)
                if keep_query and request.GET:
                    url = f"{url}?{request.GET.urlencode()}"
                return redirect(url)
            response = view(request, *args, **kwargs)
            patch_vary_headers(response, ["HX-Request"])
            return response

        return wrapper

    return decorator
