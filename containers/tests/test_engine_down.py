"""The engine stops answering: every page and API answer that shows engine state says so, none is a 500,
and once the engine answers again the orchestrator converges.

The engine is "stopped" for the code under test only: ``DOCKER_HOST`` points at a port where
nothing listens, which is exactly what the orchestrator sees when dockerd is down. The real
dockerd is shared with other test runs and keeps running; the test's own container is removed
behind the orchestrator's back while it is blind, through the real engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from rest_framework.test import APIClient

from conftest import deploy, docker_cli, on_engine
from containers import engine, engine_state, tasks
from containers.models import Container, Deployment, Event, Image
from orchestrator_site.errors import is_api_path

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_ENGINE = "tcp://127.0.0.1:9"  # the discard port: nothing listens, connections are refused
BANNER = "The Docker engine does not answer."


@contextmanager
def engine_stopped(settings: Any) -> Iterator[None]:
    previous = settings.DOCKER_HOST
    settings.DOCKER_HOST = DEAD_ENGINE
    engine.reset_client()
    try:
        yield
    finally:
        settings.DOCKER_HOST = previous
        engine.reset_client()
        engine_state.forget()


def schema_get_paths(api_client: APIClient, ids: dict[str, str]) -> list[str]:
    """Every GET operation of the API schema, with its path parameters filled from real rows."""
    schema = api_client.get("/api/schema/?format=json").json()
    paths = []
    for template, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        paths.append(re.sub(r"\{(\w+)\}", lambda m, t=template: ids.get(f"{t}:{m[1]}", ids.get(m[1], "1")), template))
    return paths


def console_get_paths(ids: dict[str, str]) -> list[str]:
    """Every console page and partial (the URL map's ``path()`` routes off the machine paths), with
    ``<int:pk>`` filled from real rows: a deployment's on deployment pages, else a container's."""
    paths: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
                continue
            if not isinstance(pattern.pattern, RoutePattern):
                continue  # the seed's and the API's regex paths: walked through the schema
            url = "/" + prefix + route
            if is_api_path(url) or url.startswith(("/admin/", "/accounts/")):
                continue
            pk = ids["deployment_pk"] if "deployment" in (pattern.name or "") else ids["container_pk"]
            paths.append(re.sub(r"<(?:\w+:)?\w+>", pk, url))

    walk(get_resolver().url_patterns, "")
    return paths


def test_a_stopped_engine_is_reported_everywhere_never_a_500_and_it_converges_after(
    settings: Any, api_client: APIClient, user: Any, demo_image: Image, remove_test_containers: None
) -> None:
    deployment = deploy(demo_image, "blind", replicas=1, container_port=8080)
    [before] = Container.objects.filter(deployment=deployment)
    assert before.status == "running"
    console = Client()
    console.force_login(user)
    ids = {
        "id": str(before.pk),
        "/api/deployments/{id}/:id": str(deployment.pk),
        "/api/images/{id}/:id": str(demo_image.pk),
        "/api/events/{id}/:id": str(Event.objects.latest("id").pk),
        "image": demo_image.reference,
        "deployment_pk": str(deployment.pk),
        "container_pk": str(before.pk),
    }
    api_paths = schema_get_paths(api_client, ids)
    page_paths = console_get_paths(ids)
    assert "/containers/" in api_paths and "/" in page_paths

    with engine_stopped(settings):
        # What the orchestrator cannot see: its container is removed while it is blind.
        docker_cli("rm", "-f", before.docker_id)

        seed = api_client.get("/containers")
        assert seed.status_code == 200
        assert seed.json()["engine"]["available"] is False and seed.json()["engine"]["message"]
        containers = api_client.get("/api/containers/").json()
        assert containers["engine"]["available"] is False
        assert [row["engine_available"] for row in containers["results"]] == [False]
        one = api_client.get(f"/api/deployments/{deployment.pk}/").json()
        assert one["engine_available"] is False

        answers = {path: api_client.get(path).status_code for path in api_paths}
        pages = {path: console.get(path).status_code for path in page_paths}
        assert [p for p, code in {**answers, **pages}.items() if code >= 500 and code != 503] == []
        # What needs the engine says it is unavailable, with the project's JSON error.
        logs = api_client.get(f"/api/containers/{before.pk}/logs/")
        assert logs.status_code == 503 and "engine" in logs.json()["error"]
        scale = api_client.post(f"/api/deployments/{deployment.pk}/scale/", {"replicas": 2}, format="json")
        assert scale.status_code == 503 and Deployment.objects.get(pk=deployment.pk).replicas == 1

        dashboard = console.get("/").content.decode()
        assert BANNER in dashboard
        assert BANNER in console.get(reverse("engine-banner")).content.decode()

    # The engine answers again: the banner and the flags go, and the next tick converges.
    assert BANNER not in console.get("/").content.decode()
    assert api_client.get("/containers").json()["engine"]["available"] is True
    tasks.reconcile_all()
    [after] = Container.objects.filter(deployment=deployment)
    assert after.docker_id != before.docker_id and after.status == "running"
    assert [c.id for c in on_engine(deployment) if c.running] == [after.docker_id]
    assert Event.objects.filter(kind="container.lost", container_docker_id=before.docker_id).count() == 1
    assert api_client.get(f"/api/deployments/{deployment.pk}/").json()["running_replicas"] == 1
