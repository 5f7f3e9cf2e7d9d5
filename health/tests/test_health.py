"""GET /health: the one open path, answered by the web process alone."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from containers import engine


def test_it_answers_ok_without_credentials(anon_client: APIClient) -> None:
    response = anon_client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_answers_with_a_trailing_slash_too(anon_client: APIClient) -> None:
    assert anon_client.get("/health/").json() == {"status": "ok"}


@pytest.mark.django_db
def test_it_touches_neither_the_database_nor_the_engine(anon_client: APIClient, django_assert_num_queries: Any) -> None:
    engine.reset_client()  # the engine client is built on first use: if it is still unbuilt, nobody called it

    with django_assert_num_queries(0):
        response = anon_client.get("/health")

    assert response.status_code == 200
    assert engine._client is None


def test_it_is_fast(anon_client: APIClient) -> None:
    anon_client.get("/health")
    started = time.perf_counter()
    for _ in range(50):
        anon_client.get("/health")

    assert (time.perf_counter() - started) / 50 < 0.02


def test_it_refuses_post(anon_client: APIClient) -> None:
    assert anon_client.post("/health").status_code == 405


def test_it_is_not_cached(anon_client: APIClient) -> None:
    assert "no-cache" in anon_client.get("/health")["Cache-Control"]
