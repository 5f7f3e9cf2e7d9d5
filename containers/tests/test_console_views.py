"""The console shell: login, the dashboard and its HTMX partials, static assets.

The dashboard reads the database mirror only, so these tests create Image, Deployment and
Container rows with the ORM and need no engine.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from containers.engine import EngineUnavailable
from containers.middleware import EngineUnavailableMiddleware
from containers.models import Container, Deployment, Event, Image, record

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def client_logged_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def docker_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


def make_deployments(count: int, *, containers_each: int = 2, prefix: str = "web") -> list[Deployment]:
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/console:1")
    deployments = Deployment.objects.bulk_create(
        Deployment(
            name=f"{prefix}-{i}",
            image=image,
            replicas=containers_each,
            memory_limit_bytes=128 * 1024**2,
            state=Deployment.State.RUNNING,
        )
        for i in range(count)
    )
    Container.objects.bulk_create(
        Container(
            deployment=deployment,
            organization_id=deployment.organization_id,
            docker_id=docker_id(),
            name=f"{deployment.name}-{n}",
            status=Container.Status.RUNNING,
            host_port=32000 + i * containers_each + n,
        )
        for i, deployment in enumerate(deployments)
        for n in range(containers_each)
    )
    return deployments


def count_queries(client: Client, url: str, headers: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries)


def test_it_redirects_an_anonymous_visitor_to_the_login_page(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_the_login_page_renders_a_styled_form(client: Client) -> None:
    response = client.get("/accounts/login/?next=/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<input type="hidden" name="next" value="/">' in html
    assert "/static/vendor/pico.min.css" in html
    # No navigation for someone not logged in.
    assert "Log out" not in html


def test_logging_in_with_the_right_password_lands_on_the_dashboard(client: Client, user: Any) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/"}, follow=True)

    assert response.redirect_chain[-1] == ("/", 302)
    assert response.status_code == 200
    assert "<h1>Dashboard</h1>" in response.content.decode()


def test_logging_in_without_next_also_lands_on_the_dashboard(client: Client, user: Any) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_stays_on_the_login_page_with_an_error(client: Client, user: Any) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_refuses_get(client_logged_in: Client) -> None:
    response = client_logged_in.get("/accounts/logout/")

    assert response.status_code == 405
    assert "_auth_user_id" in client_logged_in.session


def test_logout_by_post_ends_the_session(client_logged_in: Client) -> None:
    response = client_logged_in.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client_logged_in.get("/").status_code == 302


def test_the_dashboard_refuses_post(client_logged_in: Client) -> None:
    assert client_logged_in.post("/").status_code == 405


def test_the_partials_refuse_post(client_logged_in: Client) -> None:
    assert client_logged_in.post("/partials/deployments/", headers=HTMX).status_code == 405
    assert client_logged_in.post("/partials/events/", headers=HTMX).status_code == 405


def test_the_dashboard_shows_deployments_with_their_containers_counted_by_state(client_logged_in: Client) -> None:
    (web,) = make_deployments(1, containers_each=2)
    Container.objects.filter(name="web-0-1").update(status=Container.Status.EXITED, exit_code=137, restart_count=3)
    Deployment.objects.filter(pk=web.pk).update(state=Deployment.State.BACKOFF, cpu_limit="0.250", replicas=3)

    html = client_logged_in.get("/").content.decode()

    assert f'<a href="/deployments/{web.pk}/">web-0</a>' in html
    assert "orchestrator-test/console:1" in html
    assert "1 / 3" in html  # one running of three desired
    assert "crash-loop backoff" in html
    assert '<span class="status status-running">1 running</span>' in html
    assert '<span class="status status-exited">1 exited</span>' in html
    assert f'href="/deployments/{web.pk}/#containers-heading"' in html  # the containers themselves are listed there


def test_the_dashboard_counts_deployments_and_containers_by_state_and_what_they_reserve(
    client_logged_in: Client,
) -> None:
    web, api = make_deployments(2, containers_each=2)
    Deployment.objects.filter(pk=api.pk).update(state=Deployment.State.STOPPED, replicas=0, cpu_limit="0.250")
    Deployment.objects.filter(pk=web.pk).update(cpu_limit="0.250", replicas=3)
    Container.objects.filter(name="web-1-1").update(status=Container.Status.EXITED)

    html = client_logged_in.get("/").content.decode()

    assert '<span class="state state-running">running</span> 1' in html
    assert '<span class="state state-stopped">stopped</span> 1' in html
    assert '<span class="status status-running">running</span> 3' in html
    assert '<span class="status status-exited">exited</span> 1' in html
    assert "3 <small>running of 3 desired</small>" in html
    assert "0.75 <small>CPU cores</small>" in html  # 3 replicas of 0.25
    assert "384m <small>memory</small>" in html  # 3 replicas of 128m


def test_the_dashboard_shows_ten_deployments_trouble_first_and_links_to_all(client_logged_in: Client) -> None:
    deployments = make_deployments(12, containers_each=1)
    Deployment.objects.filter(pk=deployments[11].pk).update(state=Deployment.State.BACKOFF)
    Deployment.objects.filter(pk=deployments[10].pk).update(state=Deployment.State.CONVERGING)
    # Stopped ranks below running: the first in name order is left out of the ten.
    Deployment.objects.filter(pk=deployments[0].pk).update(state=Deployment.State.STOPPED)

    html = client_logged_in.get("/").content.decode()

    shown = re.findall(r'<tr id="deployment-(\d+)">', html)
    assert len(shown) == 10
    assert shown[:2] == [str(deployments[11].pk), str(deployments[10].pk)]
    assert str(deployments[0].pk) not in shown
    assert 'href="/deployments/">All 12 deployments' in html


def test_the_dashboard_shows_the_empty_state_with_the_demo_command(client_logged_in: Client) -> None:
    html = client_logged_in.get("/").content.decode()

    assert "No deployments yet" in html
    assert "/containers/orchestrator-demo:latest/start" in html
    assert 'href="/api/docs/"' in html


def test_the_dashboard_shows_the_latest_ten_events_newest_first(client_logged_in: Client) -> None:
    (web,) = make_deployments(1)
    for n in range(12):
        record("test.event", actor="tests", message=f"event number {n:02d}", deployment=web)

    html = client_logged_in.get("/").content.decode()

    assert "event number 11" in html and "event number 02" in html
    assert "event number 01" not in html and "event number 00" not in html
    assert html.index("event number 11") < html.index("event number 02")


def test_the_deployments_table_polls_every_two_seconds(client_logged_in: Client) -> None:
    html = client_logged_in.get("/").content.decode()

    assert re.search(r'<section id="deployments" hx-get="/partials/deployments/" hx-trigger="every 2s"', html)


def test_the_htmx_partial_returns_only_the_fragment(client_logged_in: Client) -> None:
    make_deployments(1)

    response = client_logged_in.get("/partials/deployments/", headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<nav" not in html
    assert html.lstrip().startswith('<section id="deployments"')
    assert "web-0" in html
    assert "HX-Request" in response["Vary"]


def test_the_events_partial_returns_only_the_fragment(client_logged_in: Client) -> None:
    record("test.event", actor="tests", message="something happened")

    response = client_logged_in.get("/partials/events/", headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="events"')
    assert "something happened" in html


def test_a_partial_opened_in_the_browser_redirects_to_the_dashboard(client_logged_in: Client) -> None:
    response = client_logged_in.get("/partials/deployments/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_poll_from_an_expired_session_reloads_the_page(client: Client) -> None:
    response = client.get("/partials/deployments/", headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    assert response.content == b""


def test_an_anonymous_non_htmx_request_for_a_partial_goes_to_login(client: Client) -> None:
    response = client.get("/partials/events/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_query_count_does_not_grow_with_deployments(client_logged_in: Client) -> None:
    make_deployments(2, prefix="few")
    few = count_queries(client_logged_in, "/")
    few_partial = count_queries(client_logged_in, "/partials/deployments/", HTMX)

    make_deployments(48, prefix="many")
    for deployment in Deployment.objects.all():
        record("test.event", actor="tests", message="x", deployment=deployment)
    many = count_queries(client_logged_in, "/")
    many_partial = count_queries(client_logged_in, "/partials/deployments/", HTMX)

    assert Deployment.objects.count() == 50 and Container.objects.count() == 100
    assert Event.objects.count() == 50
    assert many == few
    assert many_partial == few_partial


def test_the_nav_shows_admin_to_staff_only_and_the_event_log_to_everyone(client: Client, user: Any) -> None:
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'href="/admin/"' not in html
    assert 'href="/console/events/"' in html

    user.is_staff = True  # staff alone no longer opens the admin: organizations span customers
    user.save()
    assert 'href="/admin/"' not in client.get("/").content.decode()
    user.is_superuser = True
    user.save()
    html = client.get("/").content.decode()
    assert 'href="/admin/"' in html
    assert 'href="/console/events/"' in html


def test_the_page_carries_the_csrf_token_for_htmx_posts(client_logged_in: Client) -> None:
    html = client_logged_in.get("/").content.decode()

    match = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'>", html)
    assert match and len(match.group(1)) >= 32


@pytest.mark.parametrize(
    "url",
    ["/static/vendor/pico.min.css", "/static/console.css", "/static/django_htmx/htmx-2.min.js"],
)
def test_static_assets_are_served_with_debug_off(client: Client, settings: Any, url: str) -> None:
    assert settings.DEBUG is False

    response = client.get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_the_pages_load_no_css_or_js_from_another_host(client_logged_in: Client) -> None:
    make_deployments(1)
    Event.objects.create(kind="test.event", actor="tests")
    for html in (client_logged_in.get("/").content.decode(), Client().get("/accounts/login/").content.decode()):
        assets = re.findall(r'<(?:link|script)\b[^>]*\b(?:href|src)="([^"]+)"', html)
        assert any(asset.endswith("pico.min.css") for asset in assets)
        assert any(asset.endswith("htmx-2.min.js") for asset in assets)
        assert all(asset.startswith("/static/") for asset in assets), assets


def test_the_engine_unavailable_page_renders_in_the_console_style_without_a_request(rf: Any) -> None:
    middleware = EngineUnavailableMiddleware(lambda request: HttpResponse())

    response = middleware.process_exception(rf.get("/"), EngineUnavailable("socket missing"))

    assert response is not None and response.status_code == 503
    html = response.content.decode()
    assert "socket missing" in html
    assert "/static/vendor/pico.min.css" in html
    assert "Log out" not in html
