"""The typed environment readers behind every setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from orchestrator_site.env import envbool, envfloat, envint, envlist, envstr


def test_it_reads_secrets_from_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert envstr("SOME_SECRET", "default") == "s3cret"


def test_it_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET", raising=False)
    assert envint("NOT_SET", 7) == 7
    assert envbool("NOT_SET", True) is True
    assert envlist("NOT_SET", ["a"]) == ["a"]


@pytest.mark.parametrize(("reader", "raw"), [(envint, "ten"), (envbool, "maybe"), (envfloat, "fast")])
def test_it_fails_loudly_on_a_bad_value(monkeypatch: pytest.MonkeyPatch, reader: object, raw: str) -> None:
    monkeypatch.setenv("BAD_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match="BAD_VALUE"):
        reader("BAD_VALUE", 1)  # type: ignore[operator]


def test_it_enforces_minimums(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALL", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        envint("SMALL", 5, minimum=1)


def test_it_splits_lists_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert envlist("HOSTS", []) == ["a.example", "b.example"]
