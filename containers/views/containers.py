"""Console page for one container: what the engine says about it, its log tail, restart, remove, its events.

The log tail follows new lines by polling: every 2 s the page asks for the last ``LOG_LINES``
lines and replaces the text (a container's whole recent output is small, and asking for "the
last N" needs no cursor, so a line is never lost or shown twice). console.js keeps the view at
the bottom unless the reader scrolled up. When the container is gone the partial answers 286,
which stops the polling.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from containers import deployments, engine
from containers.models import Container, Event, actor_name
from containers.views.events import events_queryset
from containers.views.htmx import STOP_POLLING, partial_of, refresh_when_logged_out
from tenancy.access import access
from tenancy.console import require_role
from tenancy.scope import scope

LOG_LINES = 200
CONTAINER_EVENTS = 50


def containers_queryset(request: HttpRequest) -> QuerySet[Container]:
    # The page names the deployment and its image: joined, not fetched separately.
    return scope(Container.objects.select_related("deployment__image"), access(request))


def container_events(request: HttpRequest, container: Container) -> QuerySet[Event]:
    return events_queryset(request).filter(container_docker_id=container.docker_id)[:CONTAINER_EVENTS]


def host_ports(detail: engine.ContainerDetail) -> list[tuple[str, int]]:
    """``[("8080/tcp", 32768), ...]``: each container port and the 127.0.0.1 port it is published on."""
    return [
        (container_port, int(binding["HostPort"]))
        for container_port, bindings in sorted(detail.ports.items())
        for binding in bindings or []
        if binding.get("HostPort")
    ]


def gone(request: HttpRequest, container: Container | None = None) -> HttpResponse:
    return render(request, "containers/container_detail_gone.html", {"container": container}, status=404)


@require_GET
@login_required
def container_detail(request: HttpRequest, pk: int) -> HttpResponse:
    container = containers_queryset(request).filter(pk=pk).first()
    if container is None:
        return gone(request)
    try:
        detail = engine.inspect_container(container.docker_id)
        log = engine.container_logs(container.docker_id, tail=LOG_LINES)
    except engine.ContainerNotFound:
        return gone(request, container)
    context = {
        "container": container,
        "detail": detail,
        "cpu_cores": f"{detail.cpu_limit:g}" if detail.cpu_limit else "",
        "labels": sorted(detail.info.labels.items()),
        "ports": host_ports(detail),
        "log": log,
        "log_lines": LOG_LINES,
        "events": container_events(request, container),
    }
    return render(request, "containers/container_detail.html", context)


@require_GET
@refresh_when_logged_out
@login_required
@partial_of("container-detail")
def container_log(request: HttpRequest, pk: int) -> HttpResponse:
    container = scope(Container.objects.filter(pk=pk), access(request)).only("docker_id").first()
    try:
        log = engine.container_logs(container.docker_id, tail=LOG_LINES) if container else None
    except engine.ContainerNotFound:
        log = None
    if log is None:
        return render(request, "containers/container_detail_log.html", {"gone": True}, status=STOP_POLLING)
    return render(request, "containers/container_detail_log.html", {"log": log})


@require_POST
@login_required
def container_restart(request: HttpRequest, pk: int) -> HttpResponse:
    container = get_object_or_404(containers_queryset(request), pk=pk)
    require_role(request)
    try:
        deployments.restart_container(container, actor=actor_name(request.user))
    except engine.ContainerNotFound:
        return gone(request, container)
    messages.success(request, f"Restarted {container.name}.")
    return redirect("container-detail", pk=pk)


@require_http_methods(["GET", "POST"])
@login_required
def container_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST removes the container and lowers its deployment's replicas by one."""
    container = get_object_or_404(containers_queryset(request), pk=pk)
    require_role(request)
    if request.method == "GET":
        return render(request, "containers/container_detail_confirm_remove.html", {"container": container})
    deployments.remove_container(container, actor=actor_name(request.user))
    # remove_container refreshed the deployment: it shows the replica count it now wants.
    deployment = container.deployment
    messages.success(request, f"Removed {container.name}; {deployment.name} now wants {deployment.replicas}.")
    return redirect(f"/deployments/{container.deployment_id}/")
