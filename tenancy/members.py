"""Membership actions: invite an existing user, change a role, remove; one function each, called
by the console and the API alike. Each checks the caller's role, writes an audit record, and
keeps at least one admin in every organization.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tenancy import roles
from tenancy.access import Access
from tenancy.audit import audit
from tenancy.errors import Conflict, Forbidden, Invalid
from tenancy.models import Membership, Organization


def require(access: Access, capability: str, what: str) -> None:
    """403 unless the caller holds ``capability`` in their current organization."""
    if not access.can(capability):
        raise Forbidden(f"your role ({access.role or 'none'}) may not {what}")


def _check_role(role: str, access: Access) -> None:
    if role not in roles.Role.values:
        raise Invalid(f"role must be one of {', '.join(roles.Role.values)}", field="role")
    # An admin holds every capability, so this only stops someone granting above what they hold.
    if not access.staff and not roles.capabilities(role) <= access.capabilities:
        raise Forbidden(f"you may not grant {role}: it is above your own role ({access.role})", field="role")


def add_member(organization: Organization, username: str, role: str, *, access: Access) -> Membership:
    require(access, roles.MANAGE, "manage members")
    _check_role(role, access)
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise Invalid(f"no user {username!r}: they must have an account first", field="username")
    with transaction.atomic():
        if Membership.objects.filter(organization=organization, user=user).exists():
            raise Conflict(f"{username} is already a member of {organization}", field="username")
        membership = Membership.objects.create(organization=organization, user=user, role=role)
        audit(
            "membership.added",
            actor=access.username,
            organization_id=organization.pk,
            message=f"{username} added to {organization} as {role}",
            after={"user": username, "role": role},
        )
    return membership


def _admins_left(organization_id: int, without: Membership) -> int:
    return (
        Membership.objects.select_for_update()
        .filter(organization_id=organization_id, role=roles.Role.ADMIN)
        .exclude(pk=without.pk)
        .count()
    )


def change_role(membership: Membership, role: str, *, access: Access) -> Membership:
    require(access, roles.MANAGE, "change roles")
    _check_role(role, access)
    before = membership.role
    with transaction.atomic():
        if (
            before == roles.Role.ADMIN
            and role != roles.Role.ADMIN
            and not _admins_left(membership.organization_id, membership)
        ):
            raise Conflict(f"{membership.user} is the last admin of {membership.organization}", field="role")
        membership.role = role
        membership.save(update_fields=["role"])
        audit(
            "membership.role_changed",
            actor=access.username,
            organization_id=membership.organization_id,
            message=f"{membership.user} is now {role} in {membership.organization} (was {before})",
            before={"user": str(membership.user), "role": before},
            after={"user": str(membership.user), "role": role},
        )
    return membership


def remove_member(membership: Membership, *, access: Access) -> None:
    require(access, roles.MANAGE, "remove members")
    with transaction.atomic():
        if membership.role == roles.Role.ADMIN and not _admins_left(membership.organization_id, membership):
            raise Conflict(f"{membership.user} is the last admin of {membership.organization}", field="user")
        # Their tokens for this organization die with the membership.
        membership.organization.tokens.filter(user_id=membership.user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        membership.delete()
        audit(
            "membership.removed",
            actor=access.username,
            organization_id=membership.organization_id,
            message=f"{membership.user} removed from {membership.organization}",
            before={"user": str(membership.user), "role": membership.role},
        )
