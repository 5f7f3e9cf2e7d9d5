"""``manage.py bootstrap`` (first-run setup for ``make run``) and ``manage.py create_token``."""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from containers.models import Image


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_creates_the_admin_its_token_and_the_demo_image_and_says_how_to_log_in(
    db: None, engine_ready: None, var_dir: Path
) -> None:
    output = run("bootstrap")

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    password_file = var_dir / "admin-password"
    password = password_file.read_text().strip()
    assert admin.check_password(password)
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    token = Token.objects.get(user=admin).key
    assert "http://127.0.0.1:8000/" in output
    assert "admin" in output and password in output and token in output
    assert f'curl -H "Authorization: Token {token}" http://127.0.0.1:8000/containers' in output
    assert Image.objects.filter(reference="orchestrator-demo:latest", source="build").exists()


def test_running_it_twice_changes_nothing(db: None, engine_ready: None, var_dir: Path) -> None:
    first = run("bootstrap")
    password = (var_dir / "admin-password").read_text()
    token = Token.objects.get(user__username="admin").key

    second = run("bootstrap")

    assert get_user_model().objects.filter(username="admin").count() == 1
    assert (var_dir / "admin-password").read_text() == password
    assert Token.objects.filter(user__username="admin").count() == 1
    assert Token.objects.get(user__username="admin").key == token
    assert "created superuser" in first and "created superuser" not in second


def test_credentials_are_printed_only_by_the_run_that_created_them(db: None, engine_ready: None, var_dir: Path) -> None:
    first = run("bootstrap")
    password = (var_dir / "admin-password").read_text().strip()
    token = Token.objects.get(user__username="admin").key

    second = run("bootstrap")

    assert password in first and token in first
    assert password not in second and token not in second
    assert f"in {var_dir / 'admin-password'}" in second
    assert "manage.py create_token admin" in second


def test_a_kept_password_file_is_reused_for_a_fresh_database(db: None, engine_ready: None, var_dir: Path) -> None:
    (var_dir / "admin-password").write_text("kept-from-an-earlier-run\n")

    run("bootstrap")

    assert get_user_model().objects.get(username="admin").check_password("kept-from-an-earlier-run")


def test_it_does_not_show_a_password_the_admin_has_since_changed(db: None, engine_ready: None, var_dir: Path) -> None:
    run("bootstrap")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-in-the-console")
    admin.save()

    output = run("bootstrap")

    assert (var_dir / "admin-password").read_text().strip() not in output
    assert "unchanged" in output
    assert get_user_model().objects.get(username="admin").check_password("changed-in-the-console")


def test_create_token_prints_the_token_of_an_existing_user(user: Any) -> None:
    output = run("create_token", "alice").strip()

    assert output == Token.objects.get(user=user).key
    assert run("create_token", "alice").strip() == output


def test_create_token_refuses_an_unknown_user_with_exit_status_1(db: None) -> None:
    with pytest.raises(CommandError, match="nobody") as info:
        run("create_token", "nobody")

    assert info.value.returncode == 1
    assert not Token.objects.exists()
