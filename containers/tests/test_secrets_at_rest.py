"""Secrets at rest: deployment env values are encrypted in the database (Fernet), reach the container in
the clear, are never shown in the admin, and survive a key rotation; ``var/`` is private."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection
from django.test import Client

from conftest import ROOT, deploy, docker_cli, on_engine
from containers.models import Deployment, Image
from orchestrator_site import encryption

SECRET = "s3cret-value-4711"


def raw_env(deployment: Deployment) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT env FROM containers_deployment WHERE id = %s", [deployment.pk])
        (value,) = cursor.fetchone()
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.django_db
@pytest.mark.usefixtures("remove_test_containers")
def test_env_values_are_encrypted_in_the_database_and_reach_the_container(demo_image: Image) -> None:
    deployment = deploy(demo_image, "sec-env", env={"API_KEY": SECRET})

    stored = raw_env(deployment)
    (container,) = on_engine(deployment)
    env = json.loads(docker_cli("inspect", "--format", "{{json .Config.Env}}", container.id))

    assert SECRET not in stored and "API_KEY" not in stored
    assert stored.startswith(encryption.TOKEN_PREFIX)
    assert f"API_KEY={SECRET}" in env
    deployment.refresh_from_db()
    assert deployment.env == {"API_KEY": SECRET}


@pytest.mark.django_db
def test_the_admin_never_shows_env_values(admin_client: Client) -> None:
    image = Image.objects.create(reference="orchestrator-test/secrets:1")
    deployment = Deployment.objects.create(
        name="sec-admin", image=image, memory_limit_bytes=16 << 20, env={"DB_PASSWORD": SECRET}
    )

    page = admin_client.get(f"/admin/containers/deployment/{deployment.pk}/change/").content.decode()

    assert SECRET not in page and 'name="env"' not in page
    assert "DB_PASSWORD" in page  # the names are shown, read-only


@pytest.mark.django_db
def test_a_row_written_before_encryption_is_read_and_encrypted_on_save() -> None:
    image = Image.objects.create(reference="orchestrator-test/secrets:1")
    deployment = Deployment.objects.create(name="sec-legacy", image=image, memory_limit_bytes=16 << 20)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE containers_deployment SET env = %s WHERE id = %s", ['{"OLD": "plain"}', deployment.pk])

    deployment.refresh_from_db()
    deployment.save()

    assert deployment.env == {"OLD": "plain"}
    assert "plain" not in raw_env(deployment)


@pytest.mark.django_db
def test_rotating_the_key_file_reencrypts_every_value_and_drops_the_old_key(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.ENV_ENCRYPTION_KEYS = []
    image = Image.objects.create(reference="orchestrator-test/secrets:1")
    deployment = Deployment.objects.create(
        name="sec-rotate", image=image, memory_limit_bytes=16 << 20, env={"TOKEN": SECRET}
    )
    key_file = tmp_path / "env-encryption.key"
    (old_key,) = key_file.read_text().split()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    out = io.StringIO()
    call_command("rotate_env_key", stdout=out)

    (new_key,) = key_file.read_text().split()
    token = raw_env(deployment).encode()
    assert new_key != old_key and "re-encrypted 1 value" in out.getvalue()
    assert json.loads(Fernet(new_key.encode()).decrypt(token)) == {"TOKEN": SECRET}
    with pytest.raises(InvalidToken):
        Fernet(old_key.encode()).decrypt(token)
    deployment.refresh_from_db()
    assert deployment.env == {"TOKEN": SECRET}


@pytest.mark.django_db
def test_keys_from_the_environment_rotate_new_key_first(settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENV_ENCRYPTION_KEYS = [old]
    image = Image.objects.create(reference="orchestrator-test/secrets:1")
    deployment = Deployment.objects.create(name="sec-envkeys", image=image, memory_limit_bytes=16 << 20, env={"A": "b"})
    settings.ENV_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_env_key", stdout=io.StringIO())
    settings.ENV_ENCRYPTION_KEYS = [new]

    deployment.refresh_from_db()
    assert deployment.env == {"A": "b"}
    settings.ENV_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(encryption.DecryptionFailed, match="does not decrypt"):
        deployment.refresh_from_db()


def fresh_process_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "ENV_ENCRYPTION_KEYS")}
    env.update(
        ORCHESTRATOR_VAR_DIR=str(var),
        CELERY_BROKER_URL="filesystem://",
        DJANGO_SETTINGS_MODULE="orchestrator_site.settings",
    )
    return env


def test_var_is_private_and_every_file_in_it_is_0600(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)  # as an older version left it

    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=fresh_process_env(var),
        check=True,
        timeout=180,
    )

    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    files = [p for p in var.rglob("*") if p.is_file()]
    assert {"secret_key", "orchestrator.sqlite3"} <= {p.name for p in files}
    assert {
        str(p.relative_to(var)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files if p.stat().st_mode & 0o077
    } == {}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in var.rglob("*") if p.is_dir())


def test_processes_starting_together_agree_on_one_secret_key(tmp_path: Path) -> None:
    var = tmp_path / "var"
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=fresh_process_env(var), stdout=subprocess.PIPE)
        for _ in range(6)
    ]
    keys = {proc.communicate(timeout=60)[0].decode().strip() for proc in procs}

    assert len(keys) == 1 and len(keys.pop()) > 40
    assert stat.S_IMODE((var / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in var.iterdir() if p.name.startswith(".secret_key")] == []
