"""The organization's console pages: switcher, Members, Tokens, Quotas; role-gated buttons are absent and refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conftest import make_member
from tenancy.models import ApiToken, Membership, Organization

pytestmark = pytest.mark.django_db


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_viewer_sees_members_without_buttons_and_is_refused_when_posting(organization: Organization) -> None:
    make_member("alice", organization, "admin")
    vic = make_member("vic", organization, "viewer")
    alices = Membership.objects.get(user__username="alice")
    client = browser(vic)

    page = client.get("/organization/members/")
    posted = client.post(f"/organization/members/{alices.pk}/role/", {"role": "viewer"})
    removed = client.post(f"/organization/members/{alices.pk}/remove/")

    assert page.status_code == 200 and b"alice" in page.content
    assert b"Change role" not in page.content and b"Add member" not in page.content and b">Remove<" not in page.content
    assert posted.status_code == 403 and removed.status_code == 403
    assert Membership.objects.get(pk=alices.pk).role == "admin"


def test_an_admin_adds_changes_and_removes_members(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    get_user_model().objects.create_user("carol", "", "x")
    client = browser(alice)

    page = client.get("/organization/members/")
    client.post("/organization/members/add/", {"username": "carol", "role": "viewer"})
    carols = Membership.objects.get(user__username="carol")
    client.post(f"/organization/members/{carols.pk}/role/", {"role": "operator"})
    carols.refresh_from_db()
    role = carols.role
    client.post(f"/organization/members/{carols.pk}/remove/")

    assert b"Add member" in page.content
    assert role == "operator" and not Membership.objects.filter(pk=carols.pk).exists()


def test_another_organizations_member_is_a_404_on_the_console(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")
    bob = make_member("bob", other_organization, "admin")
    bobs = Membership.objects.get(user=bob)

    response = browser(alice).post(f"/organization/members/{bobs.pk}/remove/")

    assert response.status_code == 404 and Membership.objects.filter(pk=bobs.pk).exists()


def test_the_tokens_page_shows_a_new_key_once(organization: Organization) -> None:
    olga = make_member("olga", organization, "operator")
    client = browser(olga)

    created = client.post("/organization/tokens/new/", {"name": "ci", "role": "viewer", "expiry": "2999-01-01"})
    token = ApiToken.objects.get()
    later = client.get("/organization/tokens/")

    key = created.context["new_key"]
    assert key.startswith("orch_") and key.encode() in created.content
    assert created["Cache-Control"].startswith("max-age=0") or "no-cache" in created["Cache-Control"]
    assert key.encode() not in later.content and token.token_key.encode() in later.content
    assert token.expiry.year == 2999 and token.role == "viewer"


def test_the_tokens_page_offers_only_roles_within_yours(organization: Organization) -> None:
    olga = make_member("olga", organization, "operator")
    client = browser(olga)

    page = client.get("/organization/tokens/")
    refused = client.post("/organization/tokens/new/", {"name": "root", "role": "admin"})

    assert page.context["grantable"] == ["viewer", "operator"]
    assert refused.status_code == 403 and not ApiToken.objects.exists()


def test_a_token_is_revoked_from_the_console(organization: Organization) -> None:
    olga = make_member("olga", organization, "operator")
    client = browser(olga)
    client.post("/organization/tokens/new/", {"name": "ci", "role": "viewer"})
    token = ApiToken.objects.get()

    client.post(f"/organization/tokens/{token.pk}/revoke/")

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert b"revoked" in client.get("/organization/tokens/").content


def test_quotas_are_shown_to_members_and_edited_by_staff_only(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    root = get_user_model().objects.create_superuser("root", "", "x")

    page = browser(alice).get("/organization/quotas/")
    refused = browser(alice).post("/organization/quotas/edit/", {"containers": "100"})
    browser(root).post("/organization/quotas/edit/", {"containers": "4", "memory": "512", "cpu": "2"})
    organization.refresh_from_db()

    assert page.status_code == 200 and b'id="quota-containers"' in page.content and b"Save quotas" not in page.content
    assert refused.status_code == 403
    assert organization.quota_containers == 4 and organization.quota_memory_bytes == 512 * 1024**2
    assert browser(alice).get("/organization/quotas/").context["rows"][2]["limit"] == "4"


def test_the_switcher_moves_between_your_organizations_only(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")
    third = Organization.objects.create(name="Third", slug="third")
    Membership.objects.create(user=alice, organization=other_organization, role="viewer")
    client = browser(alice)

    page = client.get("/organization/members/")
    switched = client.post("/organization/switch/", {"organization": other_organization.pk})
    after = client.get("/organization/members/")
    refused = client.post("/organization/switch/", {"organization": third.pk})

    assert b'id="org-switcher"' in page.content
    assert switched.status_code == 302 and after.context["access"].organization == other_organization
    assert after.context["access"].role == "viewer" and b"Add member" not in after.content
    assert refused.status_code == 403
