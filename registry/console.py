"""The console's Services page: every live service, its LB URL, its endpoints and what HAProxy says.

Endpoints come from the database (two queries whatever their number); the state HAProxy has for
each one (ready, draining, out), its check result, current sessions and session rate come from
the Runtime API (``show servers state`` and ``show stat``), one call each. When HAProxy does not
answer the page says so and still lists the registry's view. The table refreshes itself by polling
one partial, which also renders the first load.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from containers.views.htmx import partial_of, refresh_when_logged_out
from registry import haproxy, loadbalancer
from registry.models import Service, ServiceEndpoint
from tenancy.access import access
from tenancy.scope import scope


def services_context(request: HttpRequest) -> dict[str, Any]:
    services = list(scope(Service.objects.all(), access(request)).filter(retired_at__isnull=True).order_by("name"))
    rows: dict[str, list[dict[str, Any]]] = {s.name: [] for s in services}
    endpoints = ServiceEndpoint.objects.filter(service__in=rows).select_related("container").order_by("host", "port")
    stats: dict[tuple[str, str, int], dict[str, Any]] = {}
    lb_error = ""
    if not settings.LB_ENABLED:
        lb_error = "The load balancer is disabled (LB_ENABLED=0): no traffic is balanced."
    else:
        try:
            stats = loadbalancer.service_stats()
        except haproxy.LoadBalancerError as exc:
            lb_error = f"HAProxy does not answer ({exc}); the next load balancer tick starts it again."
    for endpoint in endpoints:
        figures = stats.get((endpoint.service, endpoint.host, endpoint.port)) or stats.get(
            (endpoint.service, loadbalancer.address(endpoint.host) or "", endpoint.port)
        )
        rows[endpoint.service].append({"endpoint": endpoint, "lb": figures})
    return {
        "services": [{"service": s, "endpoints": rows[s.name]} for s in services],
        "lb_error": lb_error,
    }


@require_GET
@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/services.html", services_context(request))


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("console-services")
def service_rows(request: HttpRequest) -> HttpResponse:
    """The page's live part, polled every 2 s; a browser opening it directly gets the whole page."""
    return render(request, "registry/partials/services.html", services_context(request))
