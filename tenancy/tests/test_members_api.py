"""Members and roles through /api/members/, quotas through /api/organizations/{id}/quotas/."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from conftest import make_member
from containers.models import Event
from tenancy.models import Membership, Organization

pytestmark = pytest.mark.django_db


def session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_an_admin_invites_an_existing_user(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    get_user_model().objects.create_user("carol", "", "x")

    response = session(alice).post("/api/members/", {"username": "carol", "role": "operator"}, format="json")

    assert response.status_code == 201 and response.json()["role"] == "operator"
    assert Membership.objects.get(user__username="carol").organization == organization
    event = Event.objects.get(kind="membership.added")
    assert event.actor == "alice" and event.after == {"user": "carol", "role": "operator"}


def test_an_unknown_user_is_a_400_naming_the_username(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")

    response = session(alice).post("/api/members/", {"username": "nobody", "role": "viewer"}, format="json")

    assert response.status_code == 400 and "username" in response.json()["fields"]


def test_an_operator_can_not_make_itself_admin(organization: Organization) -> None:
    make_member("alice", organization, "admin")
    olga = make_member("olga", organization, "operator")
    mine = Membership.objects.get(user=olga)

    response = session(olga).patch(f"/api/members/{mine.pk}/", {"role": "admin"}, format="json")

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.role == "operator"


def test_the_last_admin_can_not_be_removed_or_demoted(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    mine = Membership.objects.get(user=alice)

    demote = session(alice).patch(f"/api/members/{mine.pk}/", {"role": "viewer"}, format="json")
    remove = session(alice).delete(f"/api/members/{mine.pk}/")

    assert demote.status_code == 409 and remove.status_code == 409
    assert Membership.objects.get(pk=mine.pk).role == "admin"


def test_a_role_change_is_audited_with_before_and_after(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    vic = make_member("vic", organization, "viewer")
    theirs = Membership.objects.get(user=vic)

    response = session(alice).patch(f"/api/members/{theirs.pk}/", {"role": "operator"}, format="json")

    assert response.status_code == 200
    event = Event.objects.get(kind="membership.role_changed")
    assert event.before["role"] == "viewer" and event.after["role"] == "operator"


def test_removing_a_member_revokes_their_tokens_there(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    vic = make_member("vic", organization, "operator")
    made = session(vic).post("/api/tokens/", {"name": "ci", "role": "operator"}, format="json").json()

    response = session(alice).delete(f"/api/members/{Membership.objects.get(user=vic).pk}/")

    assert response.status_code == 204
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {made['key']}")
    assert client.get("/api/tokens/").status_code == 401
    assert Event.objects.filter(kind="membership.removed").exists()


def test_another_organizations_membership_is_a_404(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")
    bob = make_member("bob", other_organization, "admin")
    theirs = Membership.objects.get(user=bob)

    assert session(alice).get(f"/api/members/{theirs.pk}/").status_code == 404
    assert session(alice).patch(f"/api/members/{theirs.pk}/", {"role": "viewer"}, format="json").status_code == 404
    assert session(alice).delete(f"/api/members/{theirs.pk}/").status_code == 404
    assert Membership.objects.get(pk=theirs.pk).role == "admin"


def test_only_staff_change_quotas_and_it_is_audited(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    root = get_user_model().objects.create_superuser("root", "", "x")
    url = f"/api/organizations/{organization.pk}/quotas/"

    refused = session(alice).patch(url, {"containers": 100}, format="json")
    done = session(root).patch(url, {"containers": 3, "cpu": "1.5"}, format="json")

    assert refused.status_code == 403
    assert done.status_code == 200 and done.json()["quotas"]["containers"] == 3
    assert done.json()["quotas"]["cpu"] == "1.500"
    event = Event.objects.get(kind="quota.changed")
    assert event.actor == "root" and event.before["containers"] is None and event.after["containers"] == 3


def test_a_negative_quota_is_a_400_naming_it(organization: Organization) -> None:
    root = get_user_model().objects.create_superuser("root", "", "x")

    response = session(root).patch(f"/api/organizations/{organization.pk}/quotas/", {"memory": -1}, format="json")

    assert response.status_code == 400 and "memory" in response.json()["fields"]


def test_members_see_their_organizations_only(organization: Organization, other_organization: Organization) -> None:
    alice = make_member("alice", organization, "viewer")

    listed = session(alice).get("/api/organizations/").json()["results"]

    assert [o["slug"] for o in listed] == ["default"]
    assert session(alice).get(f"/api/organizations/{other_organization.pk}/").status_code == 404


def test_a_user_of_no_organization_can_not_add_members_nor_sees_any(organization: Organization) -> None:
    make_member("carol", organization, "viewer")
    loner = get_user_model().objects.create_user("loner", password="x")

    response = session(loner).post("/api/members/", {"username": "carol", "role": "viewer"}, format="json")

    assert response.status_code == 403 and "error" in response.json()
    assert not Membership.objects.filter(user=loner).exists()
    listed = session(loner).get("/api/organizations/").json()
    assert listed["count"] == 0 if isinstance(listed, dict) else listed == []
