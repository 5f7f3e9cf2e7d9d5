"""Every URL pattern the project has, walked as three callers: anonymous, a viewer of another
organization, and a viewer of the organization that owns the rows.

The patterns come from the URL conf, so a new path is walked without anyone adding it here; a
path whose parameters this test can't fill fails, naming the parameter to add to ``fill``.
Each caller makes every method on every path and must get what its role allows:

* anonymous: 401 (API), a redirect to the login page (console) or 405; never anything else;
* a viewer of organization B: 404 on every path naming one of A's objects, 403/405 on every
  other change, and no answer ever contains one of A's names;
* a viewer of organization A: reads succeed, every change is refused with 403 (or 405).

After every request the state of A's rows must be unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from conftest import deploy, docker_cli, make_member
from containers.tests.image_tags import untag
from tenancy.models import ApiToken, Membership, Organization

pytestmark = pytest.mark.django_db(transaction=True)

METHODS = ("get", "post", "put", "patch", "delete")
UNSAFE = {"post", "put", "patch", "delete"}
# Open by design, or Django's own login/password pages (checked by their own tests).
OPEN = {"health"}
SKIPPED_PREFIXES = ("admin/", "accounts/", "static/")
# Changes any signed-in user may make for themselves (their own tokens, their current organization).
SELF_SERVICE = {
    "tenancy-switch",
    "tenancy-token-create",
    "tenancy-token-revoke",
    "apitoken-list",
    "apitoken-detail",
    "apitoken-revoke",
    "account-token-create",
    "account-token-revoke",
}
# Staff-only paths: a member of any organization gets 403 on them.
STAFF_ONLY = {"metrics", "test-integration"}
# Usage and invoices: staff, admins and the billing role; a viewer gets 403 reading them (billing.access).
BILLING_ONLY = ("api-usage", "api-invoice", "billing-")
# The engine's, the worker's and HAProxy's state: 503 when a part is down (no worker or load
# balancer runs in these tests).
STATUS_REPORTS = {"health-detailed", "service-traffic"}
# Pages that only lead to a change (its form or its confirmation): a viewer gets 403 reading them too.
ACTION_PAGES = ("-create", "-edit", "-stop", "-delete", "-remove", "-new")
SECRET = "alphasecret"
BODY = {"count": 1, "replicas": 3, "role": "admin", "username": "vera", "name": "x", "status": "healthy"}


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    params: tuple[str, ...]


def routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[Route]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            params = tuple(re.findall(r"\(\?P<(\w+)>|<(?:\w+:)?(\w+)>", text))
            names = tuple(a or b for a, b in params)
            if "format" in names:
                continue  # DRF's format-suffix twins answer like the plain path
            yield Route(text, pattern.name or text, names)


def concrete(route: Route, fill: dict[str, str]) -> str:
    """The route with its parameters replaced by A's ids; regex anchors and optional slashes resolved."""
    text = route.route
    for name in route.params:
        value = fill[name]
        text = re.sub(rf"\(\?P<{name}>[^)]*\)|<(?:\w+:)?{name}>", value, text, count=1)
    text = text.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")
    return "/" + text


def object_for(route: Route, param: str, rows: dict[str, Any]) -> str:
    """Which of A's rows a parameter names, from the path's name."""
    name = route.name
    if param == "image":
        return rows["image"].reference
    if param == "name" and "service" in route.name:
        return rows["service"].name
    if param == "id":  # the seed's and health's container paths take a Docker id
        return rows["container"].docker_id
    table = [
        ("organization", "organization"),
        ("member", "membership"),
        ("token", "token"),
        ("probe", "probe"),
        ("alert-rule", "alert_rule"),
        ("alert-deliver", "alert_delivery"),
        ("autoscaler", "autoscaler"),
        ("endpoint", "endpoint"),
        ("image", "image"),
        ("container", "container"),
        ("deployment", "deployment"),
        ("event", "event"),
        ("invoice", "invoice"),
    ]
    for needle, key in table:
        if needle in name and key in rows:
            return str(rows[key].pk)
    raise AssertionError(f"{route.route} ({name}): add which of A's rows its {param!r} names to object_for()")


@pytest.fixture
def world(demo_image: Any, remove_test_containers: None) -> Iterator[dict[str, Any]]:
    """Organization A with one of everything, organization B, and the three callers."""
    from containers import engine, images
    from containers.models import Event, Image

    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    beta = Organization.objects.create(name="Beta", slug="beta")
    alice = make_member("alice", alpha, "admin")
    vera = make_member("vera", alpha, "viewer")
    bob = make_member("bob", beta, "viewer")
    reference = f"orchestrator-test/{SECRET}-image:1"
    docker_cli("tag", demo_image.reference, reference)
    image = images.upsert(reference, engine.inspect_image(reference), Image.Source.UPLOAD, alpha)
    deployment = deploy(image, f"{SECRET}-web", organization=alpha, container_port=8080)
    container = deployment.containers.get()
    token, _ = ApiToken.objects.create(alice, expiry=None, name=f"{SECRET}-token", organization=alpha, role="operator")
    rows: dict[str, Any] = {
        "organization": alpha,
        "membership": Membership.objects.get(user=alice),
        "token": token,
        "image": image,
        "deployment": deployment,
        "container": container,
        "event": Event.objects.filter(organization=alpha).first(),
        "users": {"vera": vera, "bob": bob},
    }
    rows.update(_health_and_registry_rows(alpha, deployment, container))
    rows.update(_billing_rows(alpha))
    yield rows
    untag(reference)


def _health_and_registry_rows(alpha: Organization, deployment: Any, container: Any) -> dict[str, Any]:
    """A's probe, alert rule, delivery, autoscaler and endpoint, where those apps have them."""
    from containers.models import Event
    from health.models import AlertDelivery, AlertRule, Autoscaler, Probe
    from registry.models import Service, ServiceEndpoint

    rule = AlertRule.objects.create(name=f"{SECRET}-rule", deployment=deployment, organization=alpha)
    return {
        "probe": Probe.objects.create(deployment=deployment, kind="liveness", type="tcp"),
        "alert_rule": rule,
        "alert_delivery": AlertDelivery.objects.create(
            rule=rule, event=Event.objects.filter(organization=alpha).first(), deployment=deployment, at=timezone.now()
        ),
        "autoscaler": Autoscaler.objects.create(deployment=deployment, min_replicas=1, max_replicas=2),
        "endpoint": ServiceEndpoint.objects.create(
            service=f"{SECRET}-svc", host="127.0.0.1", port=9, organization=alpha
        ),
        # Registering the endpoint made its service (registry's own signal).
        "service": Service.objects.get(name=f"{SECRET}-svc"),
    }


def _billing_rows(alpha: Organization) -> dict[str, Any]:
    """A's invoice (a draft of this month), for the invoice paths."""
    from billing import invoices

    return {"invoice": invoices.refresh(alpha.pk, invoices.month_of(timezone.now()))}


def state(rows: dict[str, Any]) -> tuple[Any, ...]:
    """What a refused request must leave as it was (events are left out: refusals are logged)."""
    from containers.models import Container, Deployment, Image

    alpha = rows["organization"]
    alpha.refresh_from_db()
    return (
        list(Deployment.objects.values_list("pk", "name", "replicas", "cpu_limit", "memory_limit_bytes", "image_id")),
        sorted(Container.objects.values_list("docker_id", flat=True)),
        # A's images only: the engine is shared, and listing images mirrors whatever others tag meanwhile.
        sorted(Image.objects.filter(organization=alpha).values_list("reference", "size_bytes")),
        sorted(Membership.objects.values_list("user_id", "organization_id", "role")),
        sorted(ApiToken.objects.filter(user__username="alice").values_list("pk", "revoked_at")),
        (alpha.quota_cpu, alpha.quota_containers, alpha.quota_memory_bytes, alpha.name),
    )


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def call(client: Client, method: str, url: str) -> Any:
    # As htmx asks: partials answer their fragment (a plain browser request is redirected to the page).
    if method == "get":
        return client.get(url, HTTP_HX_REQUEST="true")
    return getattr(client, method)(url, json.dumps(BODY), content_type="application/json", HTTP_HX_REQUEST="true")


def walk(client: Client, rows: dict[str, Any], check: Any) -> list[str]:
    problems: list[str] = []
    for route in routes():
        if route.name in OPEN or route.route.startswith(SKIPPED_PREFIXES):
            continue
        fill = {param: object_for(route, param, rows) for param in route.params}
        url = concrete(route, fill)
        for method in METHODS:
            before = state(rows)
            response = call(client, method, url)
            problem = check(route, method, response)
            if state(rows) != before:
                problem = (problem + "; " if problem else "") + "it changed A's rows"
            if problem:
                problems.append(f"{method.upper()} {url} ({route.name}) -> {response.status_code}: {problem}")
    return problems


def test_an_anonymous_caller_gets_nothing_anywhere(world: dict[str, Any]) -> None:
    def check(route: Route, method: str, response: Any) -> str:
        code = response.status_code
        if code in (401, 405) or (code == 403 and method in UNSAFE):
            return ""
        if code == 302 and response["Location"].startswith("/accounts/login/"):
            return ""
        if code == 200 and response.get("HX-Refresh") == "true" and not body_of(response):
            return ""  # a partial tells htmx to reload the page, which then redirects to the login
        return "expected 401, a redirect to the login page or 405"

    problems = walk(Client(), world, check)
    assert not problems, "\n".join(problems)


def test_a_viewer_of_another_organization_finds_none_of_its_objects(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["users"]["bob"])

    def check(route: Route, method: str, response: Any) -> str:
        code = response.status_code
        # A 404 may echo the name the caller typed; anything else naming A's objects is a leak.
        asked = str(response.request.get("PATH_INFO", ""))
        if SECRET.encode() in body_of(response) and not (code == 404 and SECRET in asked):
            return "the answer names one of A's objects"
        if code >= 500 and not (code == 503 and route.name in STATUS_REPORTS):
            return "server error"
        if route.params:
            # A read names the object: 404. A change may be refused before the lookup (403, the same for
            # every id, so it tells nothing) or after it (404).
            # 286 is a polled partial's "gone, stop polling": what a deleted object answers too.
            if method == "get" and code not in (404, 405, 286):
                return "another organization's object must be a 404"
            if method in UNSAFE and code not in (403, 404, 405):
                return "another organization's object must be a 404 (or the change refused)"
            return ""
        if method in UNSAFE and route.name not in SELF_SERVICE and code not in (403, 405):
            return "a viewer's change must be refused (403)"
        if method == "get" and route.name in STAFF_ONLY and code != 403:
            return "staff only"
        return ""

    problems = walk(client, world, check)
    assert not problems, "\n".join(problems)


def test_a_viewer_of_the_owning_organization_reads_but_changes_nothing(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["users"]["vera"])

    def check(route: Route, method: str, response: Any) -> str:
        code = response.status_code
        if code >= 500 and not (code == 503 and route.name in STATUS_REPORTS):
            return "server error"
        if method in UNSAFE:
            if route.name in SELF_SERVICE or code in (403, 405):
                return ""
            return "a viewer's change must be refused (403)"
        if route.name in STAFF_ONLY:
            return "" if code == 403 else "staff only"
        if "token" in route.name and route.params:
            return "" if code in (404, 405) else "another member's token is not a viewer's to see"
        if route.name.endswith(ACTION_PAGES) and code == 403:
            return ""
        if route.name.startswith(BILLING_ONLY):
            return "" if code in (403, 405) else "billing is not a viewer's to read"
        if code in (200, 405) or (code == 302 and not response["Location"].startswith("/accounts/login/")):
            return ""
        if code == 503 and route.name in STATUS_REPORTS:
            return ""
        return "a viewer must be able to read this"

    problems = walk(client, world, check)
    assert not problems, "\n".join(problems)
