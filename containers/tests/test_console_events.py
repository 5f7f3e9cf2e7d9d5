"""The console's event log ``/console/events/``: filtered with the API's FilterSet, 50 a page with the filter
kept in the page links, and the filtered rows (every page) as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from containers.models import Container, Deployment, Event, Image, record

pytestmark = pytest.mark.django_db

PAGE = "/console/events/"
EXPORT = "/console/events/export.csv"


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def deployment(name: str) -> Deployment:
    image, _ = Image.objects.get_or_create(reference="orchestrator-test/events:1")
    return Deployment.objects.create(name=name, image=image, memory_limit_bytes=16 * 1024**2)


def many(count: int, kind: str, actor: str, **extra: Any) -> None:
    Event.objects.bulk_create(Event(kind=kind, actor=actor, message=f"{kind} #{n}", **extra) for n in range(count))


def rows_on(response: Any) -> int:
    return response.content.decode().count('<td class="when">')


def exported(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="events-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_lists_events_newest_first_with_deployment_container_and_change(alice: Client) -> None:
    web = deployment("ev-web")
    container = Container.objects.create(deployment=web, docker_id="c0ffee" * 10, name="ev-web-1")
    record("deployment.created", actor="bob", deployment=web, message="ev-web created")
    record(
        "container.restarted",
        actor="carol",
        deployment=web,
        container_docker_id=container.docker_id,
        message="ev-web-1 restarted",
        before={"replicas": 1},
        after={"replicas": 2},
    )

    body = alice.get(PAGE).content.decode()

    assert body.index("ev-web-1 restarted") < body.index("ev-web created")
    assert f'<a href="/deployments/{web.pk}/">ev-web</a>' in body
    assert f'<a href="/console/containers/{container.pk}/">' in body
    assert "&quot;replicas&quot;: 2" in body  # the change, as indented JSON


def test_an_empty_log_says_where_events_come_from(alice: Client) -> None:
    assert "No events yet." in alice.get(PAGE).content.decode()


def test_it_filters_by_kind_and_by_actor(alice: Client) -> None:
    many(3, "deployment.scaled", "bob")
    many(2, "deployment.scaled", "carol")
    many(4, "container.restarted", "bob")

    by_kind = alice.get(PAGE, {"kind": "deployment.scaled"})
    by_actor = alice.get(PAGE, {"actor": "carol"})
    by_both = alice.get(PAGE, {"kind": "container.restarted", "actor": "bob"})
    by_prefix = alice.get(PAGE, {"kind__startswith": "container."})

    # The kind's choice lists every kind; the rows hold only the chosen one.
    assert rows_on(by_kind) == 5 and "<code>container.restarted</code>" not in by_kind.content.decode()
    assert rows_on(by_actor) == 2
    assert rows_on(by_both) == 4
    assert rows_on(by_prefix) == 4
    assert 'value="carol"' in by_actor.content.decode()  # the form shows the filter in use


def test_it_filters_by_deployment_and_time_range(alice: Client) -> None:
    web, api = deployment("ev-a"), deployment("ev-b")
    many(2, "deployment.scaled", "bob", deployment=web)
    many(3, "deployment.scaled", "bob", deployment=api)
    old = timezone.now() - timedelta(days=2)
    many(4, "deployment.created", "bob", created_at=old)

    by_deployment = alice.get(PAGE, {"deployment": web.pk})
    recent = alice.get(PAGE, {"created_after": (old + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")})
    earlier = alice.get(PAGE, {"created_before": (old + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})

    assert rows_on(by_deployment) == 2
    assert f'<option value="{web.pk}" selected>ev-a</option>' in by_deployment.content.decode()
    assert rows_on(recent) == 5
    assert rows_on(earlier) == 4


def test_a_bad_filter_value_is_an_error_at_the_field_and_no_rows(alice: Client) -> None:
    many(3, "deployment.scaled", "bob")

    response = alice.get(PAGE, {"created_after": "last tuesday"})

    assert response.status_code == 400
    assert rows_on(response) == 0
    assert 'name="created_after" id="id_created_after" value="last tuesday" aria-invalid="true"' in (
        response.content.decode()
    )
    assert alice.get(EXPORT, {"created_after": "last tuesday"}).status_code == 400


def test_it_shows_50_a_page_and_keeps_the_filter_in_the_page_links(alice: Client) -> None:
    many(120, "deployment.scaled", "bob")
    many(5, "deployment.scaled", "carol")

    first = alice.get(PAGE, {"actor": "bob"})
    last = alice.get(PAGE, {"actor": "bob", "page": 3})

    assert rows_on(first) == 50 and rows_on(last) == 20
    body = first.content.decode()
    assert "Page 1 of 3" in body
    assert 'href="?actor=bob&amp;page=2"' in body and 'href="?actor=bob&amp;page=3"' in body
    assert "Page 3 of 3" in last.content.decode()
    assert 'href="/console/events/export.csv?actor=bob"' in body  # the export keeps the filter, not the page


def test_a_long_log_is_counted_only_a_thousand_events_past_the_page(alice: Client) -> None:
    many(1100, "deployment.scaled", "bob")

    first = alice.get(PAGE).content.decode()
    far = alice.get(PAGE, {"page": 22})

    # 1,050 events past page 1 are enough to say there is more: no total, no "Last" link, the next page linked.
    assert "More than 1050 events." in first and "Page 1</li>" in first
    assert "Last" not in first and 'href="?page=2"' in first
    # A page asked directly is counted that far: it knows it is the last.
    assert rows_on(far) == 1100 - 21 * 50
    assert "1100 events." in far.content.decode() and "Page 22 of 22" in far.content.decode()


def test_the_csv_export_holds_exactly_the_filtered_rows_of_every_page(alice: Client) -> None:
    web = deployment("ev-csv")
    many(70, "deployment.scaled", "bob", deployment=web, before={"replicas": 1}, after={"replicas": 2})
    many(9, "deployment.scaled", "carol")
    many(4, "container.restarted", "bob")

    rows = exported(alice.get(EXPORT, {"actor": "bob", "kind": "deployment.scaled"}))

    assert rows[0] == ["time", "actor", "kind", "deployment", "container", "message", "before", "after"]
    assert len(rows) == 1 + 70
    first = rows[1]
    assert first[1:4] == ["bob", "deployment.scaled", "ev-csv"]
    assert json.loads(first[6]) == {"replicas": 1} and json.loads(first[7]) == {"replicas": 2}
    assert {row[1] for row in rows[1:]} == {"bob"}


def test_an_unfiltered_export_holds_every_event(alice: Client) -> None:
    many(3, "a.kind", "bob")
    record("token.created", actor="alice", message='one, with a comma and "quotes"')

    rows = exported(alice.get(EXPORT))

    assert len(rows) == 1 + 4
    assert rows[1][5] == 'one, with a comma and "quotes"' and rows[1][6] == ""


def test_the_page_takes_as_many_queries_for_50_rows_as_for_2(alice: Client) -> None:
    def queries() -> int:
        alice.get(PAGE)  # the kinds to choose from are kept for a minute: counted from the second render
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(PAGE).status_code == 200
        return len(captured)

    web = deployment("ev-q")
    Container.objects.create(deployment=web, docker_id="ab" * 32, name="ev-q-1")
    many(2, "deployment.scaled", "bob", deployment=web, container_docker_id="ab" * 32)
    few = queries()
    many(48, "deployment.scaled", "bob", deployment=web, container_docker_id="ab" * 32)
    more = queries()

    assert rows_on(alice.get(PAGE)) == 50
    assert more == few


def test_the_kinds_to_choose_from_are_read_once_a_minute(alice: Client) -> None:
    many(1, "deployment.scaled", "bob")
    alice.get(PAGE)

    with CaptureQueriesContext(connection) as captured:
        alice.get(PAGE)

    assert not [q for q in captured.captured_queries if "DISTINCT" in q["sql"]]


def test_wrong_methods_are_refused(alice: Client) -> None:
    assert alice.post(PAGE).status_code == 405
    assert alice.post(EXPORT).status_code == 405


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_the_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(alice: Client, dangerous: str) -> None:
    web = deployment("ev-formula")
    Event.objects.create(kind="deployment.scaled", actor=dangerous, deployment=web, message=dangerous)

    rows = exported(alice.get(EXPORT, {"kind": "deployment.scaled"}))

    (row,) = rows[1:]
    assert row[1] == "'" + dangerous and row[5] == "'" + dangerous
    assert row[3] == "ev-formula"  # ordinary cells are left alone
