"""The account routes that exist: log in, log out, change a password. No password reset: it would send
mail, and no mail server is configured, so it could only mislead (and let anyone probe addresses)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

RESET_PATHS = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]


@pytest.mark.parametrize("url", RESET_PATHS)
def test_there_is_no_password_reset_route(client: Client, url: str) -> None:
    assert client.get(url).status_code == 404
    assert client.post(url, {"email": "alice@example.com"}).status_code == 404


def test_a_logged_in_user_can_still_change_their_password(client: Client, user: Any) -> None:
    client.force_login(user)

    page = client.get("/accounts/password_change/")
    changed = client.post(
        "/accounts/password_change/",
        {
            "old_password": "correct-horse-battery",
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )

    assert page.status_code == 200
    assert changed.status_code == 302 and changed["Location"] == "/accounts/password_change/done/"
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")
