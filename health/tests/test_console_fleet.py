"""The fleet page ``/console/health/`` and its polled partial ``/console/health/rows/``: every container's
class and latest figures, counts per class, server-side sorting, one query whatever the rows."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from containers.models import Container, Deployment, Image
from health.models import ContainerHealth
from orchestrator_site.processes.models import Heartbeat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MIB = 1024 * 1024


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def deployment(name: str = "web") -> Deployment:
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/fleet:1")
    return Deployment.objects.create(name=name, image=image, replicas=1, memory_limit_bytes=64 * MIB)


def container(owner: Deployment, name: str, health_class: str | None = "healthy", **figures: Any) -> Container:
    """A container row and, unless ``health_class`` is None, the figures a sampling round would have written."""
    row = Container.objects.create(deployment=owner, docker_id=uuid.uuid4().hex * 2, name=name, status="running")
    if health_class is not None:
        now = timezone.now()
        values = {"cpu_pct": 1.0, "memory_bytes": 4 * MIB, "memory_limit_bytes": 64 * MIB, "memory_pct": 6.25}
        values |= {"pids": 2, "net_rx_bytes": 1000, "net_tx_bytes": 500, "source": "cgroup"}
        ContainerHealth.objects.create(
            container=row, health_class=health_class, class_since=now, sampled_at=now, **values | figures
        )
    return row


def many(count: int, start: int = 0) -> None:
    """``count`` containers of the classes in turn, spread over deployments of five."""
    classes = ["healthy", "warning", "critical", "stopped"]
    for index in range(start, start + count):
        owner = Deployment.objects.filter(name=f"many-{index // 5}").first() or deployment(f"many-{index // 5}")
        container(owner, f"many-{index:03d}", classes[index % 4], cpu_pct=float(index))


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_names(html: str) -> list[str]:
    """The container names in table order (each row's ``<th scope="row">`` links to the container page)."""
    return re.findall(r'<th scope="row" class="name"><a href="/console/containers/\d+/">([^<]+)</a></th>', html)


@pytest.mark.parametrize("url", ["/console/health/", "/console/health/rows/"])
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_anonymous_poll_reloads_the_page_instead_of_swapping_in_the_login_form(client: Client) -> None:
    response = client.get("/console/health/rows/", headers=HTMX)

    assert response.headers.get("HX-Refresh") == "true"


def test_it_refuses_a_post(alice: Client) -> None:
    assert alice.post("/console/health/").status_code == 405


def test_it_shows_each_container_s_class_and_figures(alice: Client) -> None:
    web = deployment("web")
    busy = container(web, "web-busy", "critical", cpu_pct=97.5, memory_bytes=12 * MIB, memory_pct=18.75, pids=7)
    container(web, "web-idle", "healthy", cpu_pct=0.4)
    container(web, "web-down", "stopped", cpu_pct=None, memory_bytes=None, memory_pct=None, pids=None)

    response = alice.get("/console/health/")

    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(rf'<tr id="fleet-{busy.pk}".*?</tr>', html, re.S).group(0)
    assert 'data-class="critical"' in row
    assert f'href="/console/containers/{busy.pk}/"' in row
    assert f'href="/console/health/containers/{busy.pk}/"' in row
    assert f'href="/deployments/{web.pk}/"' in row
    words = text(row)
    for figure in ["critical", "web", "web-busy", "97.5 %", "12 MiB", "/ 64 MiB", "18.8 %", "1000 B", "500 B", " 7 "]:
        assert figure in words, figure
    assert re.search(r"\d+ s ago", words)
    # Counts per class at the top: every class, zero included.
    counts = text(re.search(r'<ul class="class-counts".*?</ul>', html, re.S).group(0))
    assert "3 containers" in counts
    assert "1 critical" in counts and "1 healthy" in counts and "1 stopped" in counts and "0 warning" in counts


def test_a_container_not_sampled_yet_is_listed_without_figures(alice: Client) -> None:
    new = container(deployment(), "web-new", health_class=None)

    html = alice.get("/console/health/").content.decode()

    row = text(re.search(rf'<tr id="fleet-{new.pk}".*?</tr>', html, re.S).group(0))
    assert "not sampled" in row and "—" in row
    assert "1 not sampled" in text(re.search(r'<ul class="class-counts".*?</ul>', html, re.S).group(0))


def test_the_counts_and_rows_are_the_callers_organizations_only(alice: Client, other_organization: Any) -> None:
    container(deployment(), "mine-hot", "critical", cpu_pct=99.0)
    container(deployment("mine-new"), "mine-new", health_class=None)
    image = Image.objects.create(reference="orchestrator-test/fleet-other:1", organization=other_organization)
    theirs = Deployment.objects.create(
        name="theirs", image=image, replicas=1, memory_limit_bytes=64 * MIB, organization=other_organization
    )
    for n in range(3):
        container(theirs, f"theirs-{n}", "warning")
        container(theirs, f"theirs-new-{n}", health_class=None)

    html = alice.get("/console/health/").content.decode()

    # Their health rows carry their organization: none is counted or listed here.
    assert set(ContainerHealth.objects.filter(container__deployment=theirs).values_list("organization", flat=True)) == {
        other_organization.pk
    }
    assert row_names(html) == ["mine-hot", "mine-new"]
    counts = text(re.search(r'<ul class="class-counts".*?</ul>', html, re.S).group(0))
    assert "2 containers" in counts and "1 critical" in counts and "0 warning" in counts and "1 not sampled" in counts


def test_figures_older_than_three_rounds_are_marked_stale(alice: Client) -> None:
    old = container(deployment(), "web-old")
    ContainerHealth.objects.filter(container=old).update(sampled_at=timezone.now() - timedelta(minutes=5))

    html = alice.get("/console/health/").content.decode()

    row = re.search(rf'<tr id="fleet-{old.pk}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert 'class="stale"' in row
    assert "5 min ago" in text(row)


def test_it_says_when_the_sampler_is_not_running(alice: Client) -> None:
    container(deployment(), "web-1")

    never = text(alice.get("/console/health/").content.decode())
    Heartbeat.objects.create(component="sampler", seen_at=timezone.now() - timedelta(minutes=3))
    behind = text(alice.get("/console/health/").content.decode())
    Heartbeat.objects.filter(component="sampler").update(seen_at=timezone.now())
    live = alice.get("/console/health/").content.decode()

    assert "The sampler has not run yet: these figures are not live." in never
    assert "The sampler's last round was 3 min ago: these figures are not live." in behind
    assert "sampler-stale" not in live


def test_by_default_the_worst_class_comes_first(alice: Client) -> None:
    web = deployment()
    container(web, "a-healthy", "healthy")
    container(web, "b-critical", "critical", cpu_pct=95.0)
    container(web, "c-stopped", "stopped", cpu_pct=None)
    container(web, "d-warning", "warning", cpu_pct=80.0)

    html = alice.get("/console/health/").content.decode()

    assert row_names(html) == ["b-critical", "d-warning", "a-healthy", "c-stopped"]
    assert re.search(r'<th scope="col" aria-sort="descending"><a href="/console/health/\?sort=class">Class', html)


def test_sorting_by_cpu_descending_puts_the_busiest_first_and_unknown_figures_last(alice: Client) -> None:
    web = deployment()
    for name, cpu in [("low", 3.0), ("none", None), ("high", 88.0), ("mid", 40.0)]:
        container(web, name, "healthy", cpu_pct=cpu)

    descending = alice.get("/console/health/?sort=-cpu").content.decode()
    ascending = alice.get("/console/health/?sort=cpu").content.decode()

    assert row_names(descending) == ["high", "mid", "low", "none"]
    assert row_names(ascending) == ["low", "mid", "high", "none"]
    # The active header says so, and its link flips the direction.
    header = '<th scope="col" aria-sort="{}" class="count"><a href="/console/health/?sort={}">CPU %'
    assert header.format("descending", "cpu") in descending
    assert header.format("ascending", "-cpu") in ascending
    assert descending.count("aria-sort=") == 1


def test_sorting_by_name_goes_a_to_z_and_back(alice: Client) -> None:
    web = deployment()
    for name in ["bravo", "alpha", "charlie"]:
        container(web, name)

    assert row_names(alice.get("/console/health/?sort=container").content.decode()) == ["alpha", "bravo", "charlie"]
    assert row_names(alice.get("/console/health/?sort=-container").content.decode()) == ["charlie", "bravo", "alpha"]


@pytest.mark.parametrize("sort", ["bogus", "-health__cpu_pct", "password", "--cpu", "", "name);DROP TABLE x;--"])
def test_a_sort_not_on_the_list_falls_back_to_the_default_order(alice: Client, sort: str) -> None:
    web = deployment()
    container(web, "calm", "healthy")
    container(web, "hot", "critical", cpu_pct=99.0)

    response = alice.get("/console/health/", {"sort": sort})

    assert response.status_code == 200
    assert row_names(response.content.decode()) == ["hot", "calm"]
    assert 'aria-sort="descending"><a href="/console/health/?sort=class">Class' in response.content.decode()


def test_the_partial_is_the_fragment_that_polls_itself_and_keeps_the_sort(alice: Client) -> None:
    container(deployment(), "web-1")

    response = alice.get("/console/health/rows/?sort=-pids", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<nav" not in html
    assert html.lstrip().startswith('<section id="fleet"')
    assert 'hx-get="/console/health/rows/?sort=-pids"' in html
    assert 'hx-trigger="every 5s"' in html and 'hx-swap="outerHTML"' in html
    assert "web-1" in html
    assert "HX-Request" in response["Vary"]


def test_the_page_includes_the_same_fragment(alice: Client) -> None:
    container(deployment(), "web-1")

    page = alice.get("/console/health/").content.decode()

    assert '<section id="fleet" hx-get="/console/health/rows/?sort=-class"' in page
    assert 'aria-current="page">Fleet</a>' in page


def test_the_partial_opened_directly_goes_to_the_page_with_its_sort(alice: Client) -> None:
    response = alice.get("/console/health/rows/?sort=-cpu")

    assert response.status_code == 302
    assert response["Location"] == "/console/health/?sort=-cpu"


def test_an_empty_fleet_says_how_to_start_something(alice: Client) -> None:
    words = text(alice.get("/console/health/").content.decode())

    assert "No containers yet" in words
    assert "/start" in words and "New deployment" in words
    assert "0 containers" in words


@pytest.mark.parametrize("url", ["/console/health/?sort=-cpu", "/console/health/rows/?sort=deployment"])
def test_it_makes_as_many_queries_for_50_rows_as_for_2(alice: Client, url: str) -> None:
    headers = HTMX if "rows" in url else None
    many(2)
    with CaptureQueriesContext(connection) as few:
        assert alice.get(url, headers=headers).status_code == 200
    many(48, start=2)
    with CaptureQueriesContext(connection) as lots:
        response = alice.get(url, headers=headers)

    assert len(row_names(response.content.decode())) == 50
    assert len(lots) == len(few)
    # The session, the user, the health rows counted by class and the containers counted, then the rows with
    # their health and deployment in one SELECT.
    fleet_selects = [q["sql"] for q in lots.captured_queries if '"health_containerhealth"' in q["sql"]]
    assert len(fleet_selects) == 2


def test_containers_not_sampled_yet_come_after_the_figures_whichever_the_direction(alice: Client) -> None:
    web = deployment()
    container(web, "new-b", health_class=None)
    container(web, "hot", "critical", cpu_pct=99.0)
    container(web, "new-a", health_class=None)
    container(web, "calm", "healthy", cpu_pct=2.0)
    container(web, "off", "stopped", cpu_pct=None)

    by_class = alice.get("/console/health/?sort=class").content.decode()
    worst_first = alice.get("/console/health/?sort=-class").content.decode()
    by_cpu = alice.get("/console/health/?sort=cpu").content.decode()

    assert row_names(by_class) == ["off", "calm", "hot", "new-a", "new-b"]
    assert row_names(worst_first) == ["hot", "calm", "off", "new-a", "new-b"]
    assert row_names(by_cpu) == ["calm", "hot", "off", "new-a", "new-b"]
    # By a name, those not sampled yet take their place among the others.
    assert row_names(alice.get("/console/health/?sort=container").content.decode()) == [
        "calm",
        "hot",
        "new-a",
        "new-b",
        "off",
    ]


def test_a_page_that_ends_among_the_containers_not_sampled_yet_continues_on_the_next(alice: Client) -> None:
    many(48)
    for n in range(5):
        container(deployment(f"fresh-{n}"), f"fresh-{n}", health_class=None)

    first = alice.get("/console/health/").content.decode()
    second = alice.get("/console/health/?page=2").content.decode()

    assert row_names(first)[:2] == ["many-046", "many-042"]  # critical, busiest first
    assert row_names(first)[48:] == ["fresh-0", "fresh-1"]
    assert row_names(second) == ["fresh-2", "fresh-3", "fresh-4"]
    assert "53 containers" in text(first) and "5 not sampled" in text(first)


def test_it_shows_a_page_of_50_and_counts_them_all(alice: Client) -> None:
    many(60)

    first = alice.get("/console/health/?sort=container").content.decode()
    second = alice.get("/console/health/rows/?sort=container&page=2", headers=HTMX).content.decode()

    assert row_names(first) == [f"many-{i:03d}" for i in range(50)]
    assert row_names(second) == [f"many-{i:03d}" for i in range(50, 60)]
    assert "60 containers" in text(first) and "15 critical" in text(first)
    assert "Page 1 of 2" in text(first) and 'href="/console/health/?sort=container&amp;page=2" rel="next"' in first
    # The refresh of page 2 stays on page 2.
    assert 'hx-get="/console/health/rows/?sort=container&amp;page=2"' in second
