"""Resolving who a request is, and the scope every queryset passes through."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from conftest import make_member
from tenancy import access as access_mod
from tenancy import roles, scope
from tenancy.models import ApiToken, Membership, Organization

pytestmark = pytest.mark.django_db


def test_an_anonymous_caller_sees_nothing(organization: Organization) -> None:
    seen = scope.scope(Membership.objects.all(), access_mod.ANONYMOUS)

    assert list(seen) == []


def test_a_member_sees_only_their_organization(organization: Organization, other_organization: Organization) -> None:
    alice = make_member("alice", organization, "viewer")
    make_member("bob", other_organization, "admin")

    found = access_mod.resolve(alice, None, None)

    assert found.organization == organization and found.role == "viewer" and not found.staff
    assert [m.user.username for m in scope.scope(Membership.objects.all(), found)] == ["alice"]


def test_resolving_costs_one_query(organization: Organization, other_organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")
    Membership.objects.create(user=alice, organization=other_organization, role="viewer")

    with CaptureQueriesContext(connection) as queries:
        found = access_mod.resolve(alice, None, other_organization.pk)
        list(scope.scope(Membership.objects.all(), found))

    assert found.organization == other_organization and found.role == "viewer"
    assert len(queries) == 2  # the memberships, then the scoped query itself


def test_a_session_cannot_pick_an_organization_it_does_not_belong_to(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "viewer")

    found = access_mod.resolve(alice, None, other_organization.pk)

    assert found.organization == organization


def test_a_user_in_no_organization_sees_nothing(organization: Organization) -> None:
    loner = get_user_model().objects.create_user("loner", "", "x")

    found = access_mod.resolve(loner, None, None)

    assert found.organization is None and not scope.scope(Membership.objects.all(), found).exists()


def test_staff_see_every_organization(organization: Organization, other_organization: Organization) -> None:
    make_member("bob", other_organization, "viewer")
    root = get_user_model().objects.create_superuser("root", "", "x")

    found = access_mod.resolve(root, None, None)

    assert found.staff and found.organization == organization
    assert scope.scope(Membership.objects.all(), found).count() == 1  # bob's


def test_a_billing_member_reads_no_deployments(organization: Organization) -> None:
    billing = make_member("bill", organization, "billing")

    found = access_mod.resolve(billing, None, None)

    assert found.can(roles.BILLING) and not found.can(roles.READ)
    assert not scope.scope(Membership.objects.all(), found).exists()


def test_a_token_is_capped_by_its_owners_role_today(organization: Organization) -> None:
    alice = make_member("alice", organization, "admin")
    token, _ = ApiToken.objects.create(alice, expiry=None, name="ci", organization=organization, role="admin")
    Membership.objects.filter(user=alice).update(role="viewer")

    found = access_mod.resolve(alice, token, None)

    assert found.role == "admin" and found.capabilities == {roles.READ}


def test_a_removed_members_token_can_do_nothing(organization: Organization) -> None:
    alice = make_member("alice", organization, "operator")
    token, _ = ApiToken.objects.create(alice, expiry=None, name="ci", organization=organization, role="operator")
    Membership.objects.filter(user=alice).delete()

    found = access_mod.resolve(alice, token, None)

    assert found.capabilities == frozenset()
    assert not scope.scope(Membership.objects.all(), found).exists()


def test_a_staff_users_token_stays_in_its_organization(
    organization: Organization, other_organization: Organization
) -> None:
    root = get_user_model().objects.create_superuser("root", "", "x")
    make_member("bob", other_organization, "viewer")
    token, _ = ApiToken.objects.create(root, expiry=None, name="ci", organization=organization, role="admin")

    found = access_mod.resolve(root, token, None)

    assert not found.staff and found.organization == organization
    assert not scope.scope(Membership.objects.filter(organization=other_organization), found).exists()


def test_get_or_404_answers_404_for_another_organizations_row(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")
    bob = make_member("bob", other_organization, "admin")
    theirs = Membership.objects.get(user=bob)

    with pytest.raises(Http404):
        scope.get_or_404(Membership.objects.all(), access_mod.resolve(alice, None, None), pk=theirs.pk)


def test_a_model_without_a_tenancy_path_is_refused_loudly(organization: Organization) -> None:
    with pytest.raises(scope.Unscoped):
        scope.scope(Organization.objects.all(), access_mod.ANONYMOUS)


def test_a_filter_applied_after_the_scope_cannot_widen_it(
    organization: Organization, other_organization: Organization
) -> None:
    alice = make_member("alice", organization, "admin")
    make_member("bob", other_organization, "admin")
    mine = scope.scope(Membership.objects.all(), access_mod.resolve(alice, None, None))

    widened: Any = mine.filter(organization=other_organization) | mine.filter(
        organization_id__in=[other_organization.pk]
    )

    assert not widened.exists()
