"""``manage.py wait_for_db``: returns once the database answers, gives up with one line when it never does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT
from conftest import test_database_env as database_env


def wait_for_db(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "wait_for_db", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db
def test_it_returns_at_once_when_the_database_answers() -> None:
    result = wait_for_db(database_env()["DATABASE_URL"], "-v", "2", "--timeout", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the database answers"


def test_it_waits_then_gives_up_in_one_line_when_nothing_answers() -> None:
    # Nothing listens on the discard port.
    result = wait_for_db("postgres://u:p@127.0.0.1:9/none", "--timeout", "1.5", "--interval", "0.2")
    assert result.returncode == 1
    # Other apps may log at start-up (axes does); the command's own lines are these.
    lines = [line for line in result.stderr.strip().splitlines() if " INFO " not in line]
    assert lines[0].startswith("waiting for the database: "), lines
    assert lines[-1].startswith("CommandError: the database did not answer within 1.5 s: "), lines
    assert "p@" not in result.stderr, "the password must not be echoed"
