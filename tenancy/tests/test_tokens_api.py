"""Named organization tokens through /api/tokens/: shown once, stored hashed, capped, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import make_member
from containers.models import Event
from tenancy.models import ApiToken, Organization

pytestmark = pytest.mark.django_db


def session(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=None)
    client.force_login(user)
    return client


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def make_token(user: Any, role: str = "viewer", **extra: Any) -> dict[str, Any]:
    response = session(user).post("/api/tokens/", {"name": "prometheus", "role": role, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_key_is_shown_once_and_only_its_digest_is_stored(organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")

    made = make_token(alice)

    assert made["key"].startswith("orch_") and made["role"] == "viewer" and made["organization"] == organization.pk
    row = ApiToken.objects.get(pk=made["id"])
    assert made["key"] not in (row.digest, row.token_key) and len(row.digest) == 128
    listed = session(alice).get("/api/tokens/").json()["results"]
    assert [t["prefix"] for t in listed] == [row.token_key] and "key" not in listed[0]
    assert Event.objects.filter(kind="token.created", actor="alice").exists()
    assert made["key"] not in str(list(Event.objects.values_list("message", "after")))


def test_the_token_authenticates_and_records_when_it_was_last_used(organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")
    made = make_token(alice)

    response = bearer(made["key"]).get("/api/members/")

    assert response.status_code == 200 and response.json()["count"] == 1
    assert ApiToken.objects.get(pk=made["id"]).last_used_at is not None


def test_a_read_only_token_cannot_change_anything(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    made = make_token(alice, "viewer")
    make_member("carol", organization, "viewer")

    response = bearer(made["key"]).post("/api/members/", {"username": "carol", "role": "admin"}, format="json")

    assert response.status_code == 403


def test_a_token_can_not_get_a_role_above_its_owners(organization: Organization) -> None:
    olga = make_member("olga", organization, "operator")

    response = session(olga).post("/api/tokens/", {"name": "root", "role": "admin"}, format="json")

    assert response.status_code == 403 and response.json()["fields"] == {"role": [response.json()["error"]]}
    assert not ApiToken.objects.exists()


def test_a_token_can_not_mint_a_stronger_token(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    weak = make_token(alice, "viewer")

    response = bearer(weak["key"]).post("/api/tokens/", {"name": "escalate", "role": "operator"}, format="json")

    assert response.status_code == 403 and ApiToken.objects.count() == 1


def test_an_expired_token_is_refused(organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")
    made = make_token(alice, expiry=(timezone.now() + timedelta(hours=1)).isoformat())
    ApiToken.objects.filter(pk=made["id"]).update(expiry=timezone.now() - timedelta(seconds=1))

    response = bearer(made["key"]).get("/api/tokens/")

    assert response.status_code == 401 and response.json()["error"] == "Token expired."
    assert ApiToken.objects.filter(pk=made["id"]).exists()  # kept, to be listed


def test_an_expiry_in_the_past_is_a_400_naming_it(organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")

    response = session(alice).post(
        "/api/tokens/", {"name": "x", "role": "viewer", "expiry": "2001-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400 and "expiry" in response.json()["fields"]


def test_a_revoked_token_is_refused_and_the_revocation_is_audited(organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")
    made = make_token(alice)

    revoked = session(alice).post(f"/api/tokens/{made['id']}/revoke/")
    response = bearer(made["key"]).get("/api/tokens/")

    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert response.status_code == 401 and response.json()["error"] == "Token revoked."
    assert Event.objects.filter(kind="token.revoked", actor="alice").exists()


def test_another_members_token_is_a_404_for_a_non_admin(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    vic = make_member("vic", organization, "viewer")
    made = make_token(alice)

    assert session(vic).post(f"/api/tokens/{made['id']}/revoke/").status_code == 404
    assert session(vic).delete(f"/api/tokens/{made['id']}/").status_code == 404
    assert ApiToken.objects.get(pk=made["id"]).revoked_at is None


def test_an_admin_revokes_a_members_token(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    vic = make_member("vic", organization, "viewer")
    made = make_token(vic)

    assert session(alice).delete(f"/api/tokens/{made['id']}/").status_code == 204
    assert ApiToken.objects.get(pk=made["id"]).revoked_at is not None


def test_a_token_of_organization_a_can_not_reach_organization_b(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")
    bob = make_member("bob", other_organization, "admin")
    bobs = make_token(bob)
    made = make_token(alice, "admin")
    client = bearer(made["key"])

    assert client.get(f"/api/organizations/{other_organization.pk}/").status_code == 404
    assert client.get(f"/api/tokens/{bobs['id']}/").status_code == 404
    assert client.get(f"/api/members/?organization={other_organization.pk}").json()["count"] == 1
    added = client.post(
        "/api/members/", {"username": "bob", "role": "viewer", "organization": other_organization.pk}, format="json"
    )
    assert added.status_code == 201 and added.json()["organization"] == organization.pk  # the body's org is ignored


def test_an_organization_in_a_token_body_is_ignored(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")

    made = make_token(alice, organization=other_organization.pk)

    assert made["organization"] == organization.pk


def test_only_staff_make_metrics_tokens(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")

    response = session(alice).post("/api/tokens/", {"name": "m", "role": "viewer", "metrics": True}, format="json")

    assert response.status_code == 403 and "metrics" in response.json()["fields"]


def test_an_old_drf_token_keeps_working(organization: Organization) -> None:
    from rest_framework.authtoken.models import Token

    alice = make_member("alice", organization, "operator")
    key = Token.objects.create(user=alice).key

    assert bearer(key).get("/api/members/").status_code == 200


def test_repeated_failed_tokens_are_throttled(organization: Organization, settings: Any) -> None:
    settings.TOKEN_FAILURE_LIMIT = 3
    client = bearer("orch_" + "0" * 64)

    codes = [client.get("/api/tokens/").status_code for _ in range(5)]

    assert codes == [401, 401, 401, 429, 429]
