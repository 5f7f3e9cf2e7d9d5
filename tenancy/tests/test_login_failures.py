"""Failed console logins are recorded, and repeated ones locked out (django-axes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import make_member
from containers.models import Event
from tenancy.models import Organization

pytestmark = pytest.mark.django_db


def login(client: Client, password: str) -> Any:
    return client.post("/accounts/login/", {"username": "alice", "password": password})


def test_a_failed_login_is_an_event(organization: Organization) -> None:
    make_member("alice", organization, "viewer")

    response = login(Client(), "wrong")

    assert response.status_code == 200  # the form again
    event = Event.objects.get(kind="login.failed")
    assert event.actor == "alice" and event.after["address"] == "127.0.0.1"


def test_repeated_failures_lock_the_login_out_even_with_the_right_password(
    organization: Organization, settings: Any
) -> None:
    make_member("alice", organization, "viewer")
    client = Client()

    codes = [login(client, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    locked = login(client, "correct-horse-battery")

    assert codes[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session


def test_a_good_login_works(organization: Organization) -> None:
    make_member("alice", organization, "viewer")
    client = Client()

    response = login(client, "correct-horse-battery")

    assert response.status_code == 302 and "_auth_user_id" in client.session
