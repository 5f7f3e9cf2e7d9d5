"""compose.yaml, the production stack, as docker-compose reads it: every process, and safe defaults.

The stack is brought up for real in test_compose_stack.py (-m stack); this checks the file's
promises that hold whatever runs it: what gets the engine's socket, where the console listens,
restart policies, healthchecks and secrets from files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LONG_RUNNING = {"postgres", "redis", "web", "worker", "peer-worker", "beat", "watcher", "watch", "haproxy"}
SOCKET = "/var/run/docker.sock"


def config(**env: str) -> dict[str, Any]:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: make test installs Debian's docker-compose package")
    full_env = {**os.environ, "DOCKER_GID": "999", **env}  # compose requires the docker socket's group
    result = subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def sources(service: dict[str, Any]) -> list[str]:
    return [str(volume.get("source") if isinstance(volume, dict) else volume) for volume in service.get("volumes", [])]


def test_compose_file_is_valid_and_runs_every_process() -> None:
    services = config()["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"
    for name in ("postgres", "redis", "web", "worker", "watch", "haproxy"):
        assert services[name]["healthcheck"]["test"], name


def test_only_web_the_workers_and_watcher_get_the_engine_socket() -> None:
    services = config()["services"]
    holders = {name for name, service in services.items() if any(SOCKET in s for s in sources(service))}
    assert holders == {"web", "worker", "peer-worker", "watcher"}
    for name in holders:
        assert services[name]["group_add"] == ["999"], name


def published(service: dict[str, Any]) -> list[str]:
    # docker-compose 1.x prints the short form; the compose spec's long form is read as well.
    return [
        (port if isinstance(port, str) else f"{port['host_ip']}:{port['published']}:{port['target']}").removesuffix(
            "/tcp"
        )
        for port in service.get("ports", [])
    ]


def test_the_console_and_the_watch_server_listen_on_loopback_only_on_the_chosen_ports() -> None:
    services = config(CONSOLE_PORT="18999", WATCH_PORT="18998")["services"]
    assert published(services["web"]) == ["127.0.0.1:18999:8000"]
    assert published(services["watch"]) == ["127.0.0.1:18998:8001"]
    assert all("ports" not in service for name, service in services.items() if name not in ("web", "watch"))


def test_migrations_run_once_before_the_app_processes_start() -> None:
    services = config()["services"]
    assert "migrate" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "peer-worker", "beat", "watcher", "watch"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        assert "migrate" not in " ".join(services[name]["command"]), name


def test_secrets_come_from_files_and_never_from_the_environment(tmp_path: Path) -> None:
    parsed = config(SECRETS_DIR=str(tmp_path))
    assert {name: spec["file"] for name, spec in parsed["secrets"].items()} == {
        "postgres_password": str(tmp_path / "postgres_password"),
        "database_url": str(tmp_path / "database_url"),
        "secret_key": str(tmp_path / "secret_key"),
    }
    services = parsed["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    for name in ("migrate", "web", "worker", "beat", "watcher", "watch"):
        env = services[name]["environment"]
        assert env["DATABASE_URL_FILE"] == "/run/secrets/database_url", name
        assert env["SECRET_KEY_FILE"] == "/run/secrets/secret_key", name
        assert "DATABASE_URL" not in env and "SECRET_KEY" not in env, name


def test_the_orchestrator_in_the_stack_has_its_own_instance_label() -> None:
    # Not make run's "default": a stack on the same engine never adopts or removes its containers.
    assert config()["services"]["worker"]["environment"]["ORCHESTRATOR_INSTANCE"] == "compose"
    assert config(ORCHESTRATOR_INSTANCE="x1")["services"]["web"]["environment"]["ORCHESTRATOR_INSTANCE"] == "x1"


def test_there_is_one_beat_and_a_second_would_wait_for_the_lock() -> None:
    beat = config()["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "flock /app/var/beat.lock celery" in " ".join(beat["command"])


def test_reconcile_and_the_tasks_that_wait_on_peers_have_separate_workers() -> None:
    """Probes and alert deliveries (queue peers) can never take the slots reconcile and sampling need."""
    services = config()["services"]
    assert services["worker"]["command"][-1].endswith("-Q celery")
    assert "-Q peers" in services["peer-worker"]["command"][-1]


def test_the_load_balancer_is_the_registrys_haproxy_on_the_hosts_loopback() -> None:
    """The app writes HAProxy's config and drives its sockets on the haproxy-run volume; HAProxy runs in the
    host's network namespace (frontends and the containers' published ports are on the host's 127.0.0.1),
    as the app's uid, with that volume and nothing else."""
    services = config(LB_ENABLED="")["services"]  # unset (the tests' own environment turns it off): the default
    haproxy = services["haproxy"]
    assert haproxy["network_mode"] == "host"
    assert haproxy["user"] == "10001:10001"
    assert [source.split(":")[0] for source in sources(haproxy)] == ["haproxy-run"]
    assert "secrets" not in haproxy and "group_add" not in haproxy and "ports" not in haproxy
    command = " ".join(haproxy["command"])
    assert "-S /var/lib/orchestrator-haproxy/master.sock" in command
    assert "-f /var/lib/orchestrator-haproxy/haproxy.cfg" in command
    for name in ("web", "worker", "peer-worker", "beat", "watcher", "watch"):
        env = services[name]["environment"]
        assert env["LB_ENABLED"] == "1" and env["HAPROXY_START"] == "never", name
        assert env["HAPROXY_DIR"] == "/var/lib/orchestrator-haproxy", name
        assert any(source.startswith("haproxy-run") for source in sources(services[name])), name
    assert config(LB_ENABLED="0")["services"]["worker"]["environment"]["LB_ENABLED"] == "0"
