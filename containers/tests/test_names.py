"""Deployment names are DNS labels, refused in plain words (pure: no services)."""

from __future__ import annotations

import pytest

from containers.names import name_problem, suggestion


@pytest.mark.parametrize("name", ["web", "a", "my-app-2", "0day", "x" * 63])
def test_it_accepts_dns_labels(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("My-App", "use lowercase letters only"),
        ("my_app", "only lowercase letters, digits and dashes; “_” cannot be used"),
        ("my app", "a space cannot be used"),
        ("-web", "must start and end with a letter or a digit"),
        ("web-", "must start and end with a letter or a digit"),
        ("x" * 64, "at most 63 characters (this one has 64)"),
        ("", "enter a name"),
    ],
)
def test_it_says_what_is_wrong_in_words(name: str, words: str) -> None:
    problem = name_problem(name)
    assert problem is not None and words in problem
    assert "slug" not in problem


def test_it_suggests_the_nearest_valid_name() -> None:
    assert suggestion("My_App 2") == "my-app-2"
    assert name_problem("My_App") is not None and "“my-app”" in (name_problem("My_App") or "")
