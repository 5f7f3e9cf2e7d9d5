"""compose.yaml, the production stack, is valid for docker-compose and has every process."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_is_valid_and_runs_every_process() -> None:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: make test installs Debian's docker-compose package")
    env = {**os.environ, "DOCKER_GID": "999"}  # compose requires the docker socket's group
    result = subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "watcher"} <= set(services)
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
