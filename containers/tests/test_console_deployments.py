"""The console's deployment pages: the list and its live rows, scaling inline, the detail page and its
live partials, stop and delete after a confirmation.

Pages that only read the database mirror get rows made with the ORM; anything that changes
containers runs on the real engine, converged in the test with ``reconcile.converge`` (no worker
runs under the ``db`` fixture, so the task queued on commit never fires).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from containers import deployments, engine, reconcile
from containers.models import Container, Deployment, Event, Image

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SMALL = {"cpu_limit": Decimal("0.05"), "memory_limit_bytes": 16 * 1024**2}


@pytest.fixture
def admin(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def _remove_this_run_s_containers() -> Iterator[None]:
    """The database rolls back after each test but the engine does not: remove what the test started."""
    yield
    for info in engine.list_containers(engine.instance_labels()):
        engine.remove_container(info.id)


def running(image: Image, name: str, replicas: int) -> Deployment:
    """A deployment converged on the real engine."""
    deployment = deployments.create_deployment(actor="tests", name=name, image=image, replicas=replicas, **SMALL)
    reconcile.converge(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def on_engine(deployment: Deployment) -> list[engine.ContainerInfo]:
    return engine.list_containers(engine.deployment_labels(deployment.pk))


def rows_in_db(count: int) -> list[Deployment]:
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/console-list:1")
    made = Deployment.objects.bulk_create(
        Deployment(name=f"list-{i:03d}", image=image, replicas=2, memory_limit_bytes=SMALL["memory_limit_bytes"])
        for i in range(count)
    )
    Container.objects.bulk_create(
        Container(
            deployment=d,
            organization_id=d.organization_id,
            docker_id=uuid.uuid4().hex * 2,
            name=f"{d.name}-{n}",
            status="running",
        )
        for d in made
        for n in range(2)
    )
    return made


def text(html: str) -> str:
    """The page's words without tags or runs of whitespace, to read it as a person would."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def unmasked(html: str) -> str:
    """The page without its CSRF tokens, which Django masks differently on every render."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def queries_for(client: Client, url: str, headers: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/deployments/",
        "/deployments/rows/",
        "/deployments/new/",
        "/deployments/1/",
        "/deployments/1/edit/",
        "/deployments/1/status/",
        "/deployments/1/timeline/",
        "/deployments/1/stop/",
        "/deployments/1/delete/",
    ],
)
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_an_anonymous_post_changes_nothing(client: Client) -> None:
    [deployment] = rows_in_db(1)

    response = client.post(f"/deployments/{deployment.pk}/scale/", {"step": "1"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    deployment.refresh_from_db()
    assert deployment.replicas == 2


def test_the_list_shows_each_deployment_with_its_counts_state_and_limits(admin: Client) -> None:
    first, second = rows_in_db(2)
    Deployment.objects.filter(pk=second.pk).update(state=Deployment.State.STOPPED)

    response = admin.get("/deployments/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/deployments/{first.pk}/"' in html
    assert "orchestrator-test/console-list:1" in html
    assert "2 / 2" in text(html)
    assert "state state-stopped" in html
    assert "0.5 CPU · 16m" in text(html)
    assert 'href="/deployments/new/"' in html
    assert f'hx-post="/deployments/{first.pk}/scale/"' in html


def test_a_deployment_in_backoff_shows_the_time_left(admin: Client) -> None:
    [deployment] = rows_in_db(1)
    Deployment.objects.filter(pk=deployment.pk).update(
        state=Deployment.State.BACKOFF, backoff_until=timezone.now() + timedelta(seconds=42)
    )

    words = text(admin.get("/deployments/").content.decode())

    assert "crash-loop backoff" in words
    assert re.search(r"next start in (4[0-2]) s", words)


def test_the_rows_partial_is_the_same_fragment_that_polls_itself(admin: Client) -> None:
    rows_in_db(2)

    page = admin.get("/deployments/?state=converging").content.decode()
    fragment = admin.get("/deployments/rows/?state=converging", headers=HTMX).content.decode()

    assert fragment.lstrip().startswith('<tbody id="deployment-rows"')
    assert 'hx-trigger="every 2s' in fragment
    assert 'hx-get="/deployments/rows/?state=converging"' in fragment
    assert unmasked(fragment).strip() in unmasked(page)


def test_the_rows_partial_opened_directly_goes_to_the_list(admin: Client) -> None:
    response = admin.get("/deployments/rows/?state=running")

    assert response.status_code == 302
    assert response["Location"] == "/deployments/?state=running"


def test_the_list_filters_with_the_shared_filterset(admin: Client) -> None:
    rows_in_db(3)
    Deployment.objects.filter(name="list-001").update(state=Deployment.State.RUNNING)

    by_state = admin.get("/deployments/?state=running").content.decode()
    by_name = admin.get("/deployments/?name__icontains=002").content.decode()

    assert "list-001" in by_state and "list-000" not in by_state
    assert "list-002" in by_name and "list-001" not in by_name


def test_a_bad_filter_value_names_the_filter_and_lists_nothing(admin: Client) -> None:
    rows_in_db(1)

    words = text(admin.get("/deployments/?state=bogus").content.decode())

    assert "State: Select a valid choice." in words
    assert "list-000" not in words


def test_an_empty_list_says_what_to_do_next(admin: Client) -> None:
    words = text(admin.get("/deployments/").content.decode())

    assert "No deployments yet." in words
    assert "New deployment" in words


def test_a_filter_that_matches_nothing_offers_to_clear_it(admin: Client) -> None:
    rows_in_db(1)

    words = text(admin.get("/deployments/?name__icontains=nope").content.decode())

    assert "No deployment matches these filters." in words


def test_the_list_shows_25_a_page_and_keeps_the_filter_in_the_page_links(admin: Client) -> None:
    rows_in_db(30)

    first = admin.get("/deployments/?name__icontains=list").content.decode()
    second = admin.get("/deployments/?name__icontains=list&page=2").content.decode()
    rows_of_second = admin.get("/deployments/rows/?name__icontains=list&page=2", headers=HTMX).content.decode()

    assert first.count('<tr id="deployment-row-') == 25
    assert "list-024" in first and "list-025" not in first
    assert "Page 1 of 2" in text(first)
    assert 'href="?name__icontains=list&amp;page=2"' in first
    assert second.count('<tr id="deployment-row-') == 5 and "list-025" in second
    # The page's rows poll for the same page, so a refresh never jumps back to the first.
    assert 'hx-get="/deployments/rows/?name__icontains=list&amp;page=2"' in second
    assert rows_of_second.count('<tr id="deployment-row-') == 5


def test_a_page_alone_is_no_filter(admin: Client) -> None:
    rows_in_db(1)

    words = text(admin.get("/deployments/?page=1").content.decode())

    assert "list-000" in words
    assert "Clear" not in words


def test_the_list_makes_as_many_queries_for_50_rows_as_for_2(admin: Client) -> None:
    rows_in_db(2)
    page_2 = queries_for(admin, "/deployments/")
    rows_2 = queries_for(admin, "/deployments/rows/", HTMX)
    image = Image.objects.get()
    Deployment.objects.bulk_create(
        Deployment(name=f"more-{i}", image=image, memory_limit_bytes=SMALL["memory_limit_bytes"]) for i in range(48)
    )
    assert Deployment.objects.count() == 50

    assert queries_for(admin, "/deployments/") == page_2
    assert queries_for(admin, "/deployments/rows/", HTMX) == rows_2


def test_the_detail_page_makes_as_many_queries_for_50_containers_as_for_2(admin: Client) -> None:
    [deployment] = rows_in_db(1)
    page = queries_for(admin, f"/deployments/{deployment.pk}/")
    status = queries_for(admin, f"/deployments/{deployment.pk}/status/", HTMX)
    Container.objects.bulk_create(
        Container(
            deployment=deployment,
            organization_id=deployment.organization_id,
            docker_id=uuid.uuid4().hex * 2,
            name=f"x-{n}",
        )
        for n in range(48)
    )

    assert queries_for(admin, f"/deployments/{deployment.pk}/") == page
    assert queries_for(admin, f"/deployments/{deployment.pk}/status/", HTMX) == status


@pytest.mark.usefixtures("_remove_this_run_s_containers")
def test_the_detail_page_shows_the_containers_and_the_timeline(admin: Client, demo_image: Image) -> None:
    deployment = running(demo_image, "console-detail", 1)
    deployments.update_deployment(deployment, actor="tests", container_port=8080)
    reconcile.converge(deployment.pk)
    [container] = Container.objects.filter(deployment=deployment)
    assert container.host_port

    html = admin.get(f"/deployments/{deployment.pk}/").content.decode()
    status = admin.get(f"/deployments/{deployment.pk}/status/", headers=HTMX).content.decode()
    timeline = admin.get(f"/deployments/{deployment.pk}/timeline/", headers=HTMX).content.decode()

    assert f'href="/console/containers/{container.pk}/"' in html
    assert f'href="http://127.0.0.1:{container.host_port}/"' in html
    assert "1 running of 1 desired" in text(html)
    assert status.lstrip().startswith('<section id="deployment-status"') and 'hx-trigger="every 2s"' in status
    assert container.name in status
    assert timeline.lstrip().startswith('<section id="deployment-timeline"') and 'hx-trigger="every 2s"' in timeline
    kinds = re.findall(r"<code>([a-z.]+)</code>", timeline)
    assert kinds[-1] == "deployment.created"  # newest first
    assert kinds.index("container.removed") < kinds.index("deployment.updated")


def test_the_live_partials_stop_polling_once_the_deployment_is_gone(admin: Client) -> None:
    assert admin.get("/deployments/999999/status/", headers=HTMX).status_code == 286
    assert admin.get("/deployments/999999/timeline/", headers=HTMX).status_code == 286
    assert admin.get("/deployments/999999/").status_code == 404


def test_the_plus_button_scales_up_by_one_and_swaps_the_row(admin: Client, user: Any) -> None:
    [deployment] = rows_in_db(1)

    response = admin.post(
        f"/deployments/{deployment.pk}/scale/",
        {"step": "1", "replicas": "2"},
        headers={**HTMX, "HX-Target": f"deployment-row-{deployment.pk}"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="deployment-row-{deployment.pk}"')
    assert 'value="3"' in html
    deployment.refresh_from_db()
    assert deployment.replicas == 3
    event = Event.objects.get(kind="deployment.scaled")
    assert (event.actor, event.before, event.after) == (user.username, {"replicas": 2}, {"replicas": 3})


def test_the_minus_button_and_the_number_scale_without_javascript_too(admin: Client) -> None:
    [deployment] = rows_in_db(1)

    down = admin.post(f"/deployments/{deployment.pk}/scale/", {"step": "-1", "next": "/deployments/"})
    deployment.refresh_from_db()
    assert (down.status_code, down["Location"], deployment.replicas) == (302, "/deployments/", 1)

    admin.post(f"/deployments/{deployment.pk}/scale/", {"replicas": "4", "next": "https://evil.example/"})
    deployment.refresh_from_db()
    assert deployment.replicas == 4
    assert [e.after for e in Event.objects.filter(kind="deployment.scaled").order_by("id")] == [
        {"replicas": 1},
        {"replicas": 4},
    ]


def test_a_scale_above_the_maximum_shows_the_error_in_the_row_and_changes_nothing(admin: Client, settings: Any) -> None:
    settings.MAX_REPLICAS = 5
    [deployment] = rows_in_db(1)

    response = admin.post(
        f"/deployments/{deployment.pk}/scale/",
        {"replicas": "6"},
        headers={**HTMX, "HX-Target": f"deployment-row-{deployment.pk}"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true"' in html and "must be at most 5" in html
    deployment.refresh_from_db()
    assert deployment.replicas == 2


@pytest.mark.usefixtures("_remove_this_run_s_containers")
def test_scaling_from_the_detail_page_runs_more_containers(admin: Client, demo_image: Image) -> None:
    deployment = running(demo_image, "console-scale", 1)

    response = admin.post(
        f"/deployments/{deployment.pk}/scale/", {"replicas": "2"}, headers={**HTMX, "HX-Target": "deployment-scale"}
    )
    reconcile.converge(deployment.pk)

    assert response.content.decode().lstrip().startswith('<div id="deployment-scale">')
    assert len([c for c in on_engine(deployment) if c.running]) == 2


@pytest.mark.usefixtures("_remove_this_run_s_containers")
def test_stop_asks_first_then_removes_every_container_and_keeps_the_deployment(
    admin: Client, demo_image: Image, user: Any
) -> None:
    deployment = running(demo_image, "console-stop", 2)
    names = sorted(c.name for c in on_engine(deployment))

    confirm = admin.get(f"/deployments/{deployment.pk}/stop/")
    assert confirm.status_code == 200
    assert 'method="post"' in confirm.content.decode() and all(name in confirm.content.decode() for name in names)
    assert Deployment.objects.get(pk=deployment.pk).replicas == 2  # asking changed nothing

    stopped = admin.post(f"/deployments/{deployment.pk}/stop/")
    reconcile.converge(deployment.pk)

    assert stopped.status_code == 302 and stopped["Location"] == f"/deployments/{deployment.pk}/"
    deployment.refresh_from_db()
    assert (deployment.replicas, deployment.state) == (0, Deployment.State.STOPPED)
    assert on_engine(deployment) == []
    assert Event.objects.filter(kind="deployment.stopped", actor=user.username).exists()


@pytest.mark.usefixtures("_remove_this_run_s_containers")
def test_delete_asks_first_then_removes_the_containers_and_the_row(admin: Client, demo_image: Image) -> None:
    deployment = running(demo_image, "console-delete", 1)
    assert len(on_engine(deployment)) == 1

    confirm = admin.get(f"/deployments/{deployment.pk}/delete/")
    assert "Delete deployment" in confirm.content.decode()
    assert Deployment.objects.filter(pk=deployment.pk).exists()

    deleted = admin.post(f"/deployments/{deployment.pk}/delete/")

    assert deleted.status_code == 302 and deleted["Location"] == "/deployments/"
    assert not Deployment.objects.filter(pk=deployment.pk).exists()
    assert on_engine(deployment) == []
    assert "Deleted console-delete" in admin.get("/deployments/").content.decode()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/deployments/"),
        ("post", "/deployments/rows/"),
        ("get", "/deployments/new/preview/"),
        ("post", "/deployments/{pk}/"),
        ("get", "/deployments/{pk}/scale/"),
        ("get", "/deployments/{pk}/scale/preview/"),
        ("get", "/deployments/{pk}/edit/preview/"),
        ("put", "/deployments/{pk}/edit/"),
        ("delete", "/deployments/{pk}/delete/"),
        ("put", "/deployments/{pk}/stop/"),
    ],
)
def test_a_wrong_method_is_405(admin: Client, method: str, url: str) -> None:
    [deployment] = rows_in_db(1)

    response = getattr(admin, method)(url.format(pk=deployment.pk))

    assert response.status_code == 405
    assert Deployment.objects.filter(pk=deployment.pk).exists()
