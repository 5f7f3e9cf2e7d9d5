"""The OpenAPI schema and its docs page: served to a logged-in user, assets offline, no warnings for our views."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

OUR_PATHS = [
    "/api/deployments/",
    "/api/deployments/{id}/",
    "/api/deployments/{id}/scale/",
    "/api/deployments/{id}/stop/",
    "/api/containers/",
    "/api/containers/{id}/",
    "/api/containers/{id}/restart/",
    "/api/containers/{id}/logs/",
    "/api/events/",
    "/api/events/{id}/",
    "/containers/",
    "/containers/{image}/start/",
    "/containers/{image}/stop/",
    "/containers/{id}/",
]


def test_the_schema_answers_an_authenticated_client_and_holds_our_paths(api_client: APIClient) -> None:
    response = api_client.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert set(OUR_PATHS) <= set(schema["paths"])
    scale = schema["paths"]["/api/deployments/{id}/scale/"]["post"]
    assert {"wait"} <= {p["name"] for p in scale["parameters"]}
    assert {"200", "202"} <= set(scale["responses"])


def test_the_docs_page_loads_its_assets_from_this_server(user: Any) -> None:
    client = Client()
    client.force_login(user)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in a for a in assets)
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    bundle = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    assert client.get(bundle).status_code == 200


def test_the_schema_has_no_warnings_or_errors_for_our_views(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    # Spectacular names the view's module in each warning, and the path in an operationId collision.
    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yaml"))

    ours = [
        line
        for line in capsys.readouterr().err.splitlines()
        if re.search(
            r"containers/api/(views|seed|serializers)\.py|'/(api/(deployments|containers|events)|containers)/", line
        )
    ]
    assert ours == []
