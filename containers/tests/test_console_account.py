"""The console's account page ``/account/``: who you are, and your API token — an organization token
(knox) with your role in the organization you act in — created (its key shown once), replaced,
revoked after a confirmation; each change in the event log, never the key. An older DRF token keeps
working until a new one replaces it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import make_member
from containers.models import Event
from tenancy.models import ApiToken, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def api_status(key: str, path: str = "/api/deployments/") -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return int(client.get(path).status_code)


def new_key(response: Any) -> str:
    found = re.search(r'id="new-token-key" value="([^"]+)"', response.content.decode())
    assert found, "the page shows the new key"
    return found.group(1)


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


def test_a_new_token_is_an_organization_token_shown_once_then_only_its_first_characters(
    alice: Client, user: Any, organization: Organization
) -> None:
    created = alice.post("/account/token/")

    key = new_key(created)
    token = ApiToken.objects.get(user=user)
    assert created.status_code == 200 and "shown only this once" in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert key.startswith("orch_") and token.digest != key and key.startswith(token.token_key)
    assert (token.organization, token.role, token.name) == (organization, "admin", "account")

    later = alice.get("/account/").content.decode()

    assert key not in later
    assert f"<code>{token.token_key}…</code>" in later
    event = Event.objects.get(kind="token.created")
    assert event.actor == "alice" and event.after["prefix"] == token.token_key
    assert key not in f"{event.message}{event.before}{event.after}"


def test_the_token_has_the_role_of_its_owner_in_the_organization(client: Client, organization: Organization) -> None:
    viewer = make_member("vera", organization, "viewer")
    client.force_login(viewer)

    key = new_key(client.post("/account/token/"))

    assert ApiToken.objects.get(user=viewer).role == "viewer"
    assert api_status(key) == 200
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert writer.post("/api/deployments/", {"name": "x"}, format="json").status_code == 403


def test_the_key_works_against_the_api_until_it_is_revoked(alice: Client, user: Any) -> None:
    key = new_key(alice.post("/account/token/"))
    assert api_status(key) == 200

    confirm = alice.get("/account/token/revoke/")
    assert confirm.status_code == 200 and "Revoke token</button>" in confirm.content.decode()
    assert api_status(key) == 200  # asking revokes nothing

    response = alice.post("/account/token/revoke/")

    assert response.status_code == 302 and response["Location"] == "/account/"
    assert ApiToken.objects.get(user=user).revoked_at is not None
    assert api_status(key) == 401
    event = Event.objects.get(kind="token.revoked")
    assert event.actor == "alice" and key not in f"{event.message}{event.before}{event.after}"
    assert "revoked" in alice.get("/account/").content.decode()


def test_replacing_asks_first_then_the_old_key_stops_working(alice: Client, user: Any) -> None:
    old = new_key(alice.post("/account/token/"))

    confirm = alice.get("/account/token/")
    assert confirm.status_code == 200 and "Create a new token</button>" in confirm.content.decode()
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 1  # asking replaces nothing

    new = new_key(alice.post("/account/token/"))

    assert new != old
    assert api_status(old) == 401 and api_status(new) == 200
    assert Event.objects.filter(kind="token.created").count() == 2
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_an_older_drf_token_works_until_a_new_token_rotates_it(alice: Client, user: Any) -> None:
    older = Token.objects.create(user=user)
    assert api_status(older.key) == 200
    page = alice.get("/account/").content.decode()
    assert f"<code>{older.key[:6]}…</code>" in page and "Replace token" in page

    new = new_key(alice.post("/account/token/"))

    assert api_status(older.key) == 401 and api_status(new) == 200
    assert not Token.objects.filter(user=user).exists()
    retired = Event.objects.get(kind="token.revoked")
    assert retired.before == {"prefix": older.key[:6], "kind": "legacy"} and older.key not in retired.message


def test_without_a_token_there_is_nothing_to_confirm_or_revoke(alice: Client) -> None:
    assert alice.get("/account/token/")["Location"] == "/account/"
    assert alice.get("/account/token/revoke/")["Location"] == "/account/"
    assert alice.post("/account/token/revoke/").status_code == 302
    assert not Event.objects.filter(kind="token.revoked").exists()


def test_another_user_s_tokens_are_untouched(alice: Client, user: Any, organization: Organization) -> None:
    bob = make_member("bob", organization, "operator")
    bobs = Token.objects.create(user=bob)
    bob_client = Client()
    bob_client.force_login(bob)
    bobs_new = new_key(bob_client.post("/account/token/"))

    alice.post("/account/token/")
    alice.post("/account/token/revoke/")

    assert Token.objects.filter(pk=bobs.pk).exists() is False  # bob's own new token retired his older one
    assert api_status(bobs_new) == 200
    assert ApiToken.objects.get(user=bob).revoked_at is None
