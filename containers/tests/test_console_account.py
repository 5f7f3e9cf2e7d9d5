"""The console's account page ``/account/``: who you are, and your API token — created (its key shown
once), replaced, revoked after a confirmation; each change in the event log, never the key."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from containers.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def api_status(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return int(client.get("/api/deployments/").status_code)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/account/"),
        ("post", "/account/token/"),
        ("get", "/account/token/revoke/"),
        ("post", "/account/token/revoke/"),
    ],
)
def test_it_sends_an_anonymous_visitor_to_the_login_page(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_says_who_you_are_and_that_you_have_no_token_yet(alice: Client) -> None:
    body = alice.get("/account/").content.decode()

    assert "Signed in as <strong>alice</strong>" in body
    assert "You have no API token yet" in body
    assert 'action="/account/token/"' in body


def test_a_new_token_is_shown_once_and_then_only_its_first_characters(alice: Client, user: Any) -> None:
    created = alice.post("/account/token/")

    key = Token.objects.get(user=user).key
    assert created.status_code == 200
    assert key in created.content.decode() and "shown only this once" in created.content.decode()
    assert "no-store" in created["Cache-Control"]

    later = alice.get("/account/").content.decode()

    assert key not in later
    assert f"<code>{key[:6]}…</code>" in later
    event = Event.objects.get(kind="token.created")
    assert event.actor == "alice" and event.after == {"prefix": key[:6]}
    assert key not in f"{event.message}{event.before}{event.after}"


def test_the_key_works_against_the_api_until_it_is_revoked(alice: Client, user: Any) -> None:
    alice.post("/account/token/")
    key = Token.objects.get(user=user).key
    assert api_status(key) == 200

    confirm = alice.get("/account/token/revoke/")
    assert confirm.status_code == 200 and "Revoke token</button>" in confirm.content.decode()
    assert api_status(key) == 200  # asking revokes nothing

    response = alice.post("/account/token/revoke/")

    assert response.status_code == 302 and response["Location"] == "/account/"
    assert not Token.objects.filter(user=user).exists()
    assert api_status(key) == 401
    event = Event.objects.get(kind="token.revoked")
    assert event.actor == "alice" and key not in f"{event.message}{event.before}{event.after}"
    assert "revoked" in alice.get("/account/").content.decode()


def test_replacing_asks_first_then_the_old_key_stops_working(alice: Client, user: Any) -> None:
    alice.post("/account/token/")
    old = Token.objects.get(user=user).key

    confirm = alice.get("/account/token/")
    assert confirm.status_code == 200 and "Create a new token</button>" in confirm.content.decode()
    assert Token.objects.get(user=user).key == old  # asking replaces nothing

    alice.post("/account/token/")

    new = Token.objects.get(user=user).key
    assert new != old
    assert api_status(old) == 401 and api_status(new) == 200
    assert Event.objects.filter(kind="token.created").count() == 2


def test_without_a_token_there_is_nothing_to_confirm_or_revoke(alice: Client) -> None:
    assert alice.get("/account/token/")["Location"] == "/account/"
    assert alice.get("/account/token/revoke/")["Location"] == "/account/"
    assert alice.post("/account/token/revoke/").status_code == 302
    assert not Event.objects.filter(kind="token.revoked").exists()


def test_another_user_s_token_is_untouched(alice: Client, user: Any, django_user_model: Any) -> None:
    bob = django_user_model.objects.create_user("bob", password="another-long-password")
    bobs = Token.objects.create(user=bob)

    alice.post("/account/token/")
    alice.post("/account/token/revoke/")

    assert Token.objects.filter(pk=bobs.pk).exists()
    assert bobs.key not in alice.get("/account/").content.decode()


def test_the_account_page_takes_no_post(alice: Client) -> None:
    assert alice.post("/account/").status_code == 405
    assert alice.put("/account/token/").status_code == 405
