"""``GET /containers`` and ``GET /registry/endpoints`` answer a page, never every row: ``limit`` (default
``SEED_LIST_DEFAULT_LIMIT``, at most ``SEED_LIST_MAX_LIMIT``) rows from ``offset``, ``total`` counting all."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from containers.models import Container, Deployment, Image
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_containers() -> list[Container]:
    image = Image.objects.create(reference="orchestrator-test/paging:1")
    deployment = Deployment.objects.create(name="paging", image=image, replicas=30, memory_limit_bytes=16 * 1024**2)
    return Container.objects.bulk_create(
        Container(
            deployment=deployment,
            organization_id=deployment.organization_id,
            docker_id=f"{n:064x}",
            name=f"paging-{n:02d}",
            status="running",
        )
        for n in range(30)
    )


@pytest.fixture
def many_endpoints() -> None:
    ServiceEndpoint.objects.bulk_create(
        ServiceEndpoint(service="billing", host="127.0.0.1", port=9000 + n) for n in range(30)
    )


@override_settings(SEED_LIST_DEFAULT_LIMIT=10, SEED_LIST_MAX_LIMIT=20)
def test_the_container_list_is_capped_at_the_default_limit(api_client: APIClient, many_containers: list) -> None:
    body = api_client.get("/containers").json()

    assert body["total"] == 30
    assert len(body["containers"]) == 10 and (body["limit"], body["offset"]) == (10, 0)


@override_settings(SEED_LIST_DEFAULT_LIMIT=10, SEED_LIST_MAX_LIMIT=20)
def test_the_container_list_pages_with_limit_and_offset(api_client: APIClient, many_containers: list) -> None:
    pages = [api_client.get("/containers", {"limit": 8, "offset": offset}).json() for offset in (0, 8, 16, 24)]

    names = [row["name"] for page in pages for row in page["containers"]]
    assert names == [f"paging-{n:02d}" for n in range(30)]
    assert {page["total"] for page in pages} == {30}


@override_settings(SEED_LIST_DEFAULT_LIMIT=10, SEED_LIST_MAX_LIMIT=20)
@pytest.mark.parametrize(
    ("query", "field"),
    [({"limit": 21}, "limit"), ({"limit": 0}, "limit"), ({"limit": "x"}, "limit"), ({"offset": -1}, "offset")],
)
def test_a_limit_above_the_maximum_or_a_bad_offset_is_a_400(
    api_client: APIClient, many_containers: list, query: dict, field: str
) -> None:
    for url in ("/containers", "/registry/endpoints"):
        response = api_client.get(url, query)

        assert response.status_code == 400, url
        assert field in response.json()["fields"]


@override_settings(SEED_LIST_DEFAULT_LIMIT=10, SEED_LIST_MAX_LIMIT=20)
def test_the_endpoint_list_is_capped_and_pages(api_client: APIClient, many_endpoints: None) -> None:
    first = api_client.get("/registry/endpoints").json()
    last = api_client.get("/registry/endpoints", {"limit": 20, "offset": 20}).json()

    assert (first["count"], first["total"], len(first["endpoints"])) == (10, 30, 10)
    assert (last["count"], last["total"]) == (10, 30)
    assert [e["port"] for e in first["endpoints"]] == list(range(9000, 9010))
    assert [e["port"] for e in last["endpoints"]] == list(range(9020, 9030))


def test_the_filter_still_applies_before_paging(api_client: APIClient, many_endpoints: None) -> None:
    ServiceEndpoint.objects.create(service="search", host="127.0.0.1", port=7000)

    body = api_client.get("/registry/endpoints", {"service": "search"}).json()

    assert (body["count"], body["total"]) == (1, 1)
