"""Organization API tokens: create (the key is returned once, only its digest is kept), revoke.

A token is its creator's, bound to the organization the creator is acting in and to a role
whose capabilities are within the creator's own (a viewer can make a read-only token for a
load balancer; an operator can't make an admin token).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tenancy import roles
from tenancy.access import Access
from tenancy.audit import audit
from tenancy.errors import Forbidden, Invalid
from tenancy.models import ApiToken

MAX_ACTIVE_PER_USER = 50


def create_token(
    access: Access, *, name: str, role: str, expiry: datetime | None = None, metrics: bool = False
) -> tuple[ApiToken, str]:
    """A new token for the caller in the caller's organization; returns the row and the key (shown once)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("a token needs a name of 1 to 100 characters", field="name")
    if role not in roles.Role.values:
        raise Invalid(f"role must be one of {', '.join(roles.Role.values)}", field="role")
    if not roles.capabilities(role) <= access.capabilities:
        raise Forbidden(f"a token can't have more than your own role ({access.role}): {role} is above it", field="role")
    if expiry is not None and expiry <= timezone.now():
        raise Invalid("expiry must be in the future", field="expiry")
    if metrics and not access.staff:
        raise Forbidden("only staff can make a token that reads /metrics", field="metrics")
    if access.organization is None or access.user_id is None:
        raise Forbidden("you belong to no organization")
    active = ApiToken.objects.filter(user_id=access.user_id, revoked_at__isnull=True)
    if active.count() >= MAX_ACTIVE_PER_USER:
        raise Invalid(f"at most {MAX_ACTIVE_PER_USER} active tokens per user: revoke one first", field="name")
    with transaction.atomic():
        # knox's manager takes the expiry as a duration from now.
        token, key = ApiToken.objects.create(
            access.user,
            expiry=(expiry - timezone.now()) if expiry else None,
            name=name,
            organization=access.organization,
            role=role,
            metrics=metrics,
        )
        audit(
            "token.created",
            actor=access.username,
            organization_id=access.organization_id,
            message=f"API token {name!r} ({token.token_key}…, {role}) created for {access.username}",
            after={
                "name": name,
                "prefix": token.token_key,
                "role": role,
                "expiry": expiry.isoformat() if expiry else None,
            },
        )
    return token, key


def visible_tokens(access: Access):  # noqa: ANN201 - a QuerySet[ApiToken]
    """The caller's own tokens; an organization's admins (and staff) see every member's."""
    qs = ApiToken.objects.select_related("user", "organization")
    if access.staff:
        return qs
    if access.can(roles.MANAGE):
        return qs.filter(organization_id=access.organization_id)
    return qs.filter(organization_id=access.organization_id, user_id=access.user_id)


def revoke_token(token: ApiToken, *, access: Access) -> bool:
    """Revoke ``token`` (the caller's own, or any in the organization for its admins); False if it already was."""
    own = token.user_id == access.user_id
    if not (own or access.staff or (access.can(roles.MANAGE) and token.organization_id == access.organization_id)):
        raise Forbidden("only the token's owner or an admin of its organization may revoke it")
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            audit(
                "token.revoked",
                actor=access.username,
                organization_id=token.organization_id,
                message=f"API token {token.name!r} ({token.token_key}…) of {token.user} revoked",
                before={"name": token.name, "prefix": token.token_key, "role": token.role},
            )
    token.refresh_from_db()
    return bool(changed)
