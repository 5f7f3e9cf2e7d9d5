"""Who is asking, for which organization, with which role: resolved once per request.

``access(request)`` answers from the session (console, and the API used from the console) or
from the API token the request authenticated with. It costs at most one query (the user's
memberships, with their organizations joined), cached on the request; every scoped queryset
after that is a plain filter on the organization.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from tenancy import roles
from tenancy.models import ApiToken, Membership, Organization

SESSION_KEY = "organization_id"
_CACHE = "_tenancy_access"


@dataclass(frozen=True)
class Access:
    """What one request may see and do."""

    user_id: int | None
    username: str
    organization: Organization | None
    role: str | None
    staff: bool = False
    capabilities: frozenset[str] = frozenset()
    # The user's organizations, for the console's switcher (staff: theirs, not every one).
    memberships: tuple[Membership, ...] = field(default=())
    token: ApiToken | None = None
    # The user object itself (not compared, not printed): actions that create rows for the caller need it.
    user: Any = field(default=None, compare=False, repr=False)

    @property
    def organization_id(self) -> int | None:
        return self.organization.pk if self.organization else None

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def memberships_org_ids(self) -> list[int]:
        return [m.organization_id for m in self.memberships]

    # For templates, which can't pass an argument: role-gated buttons test these.
    @property
    def can_read(self) -> bool:
        return self.can(roles.READ)

    @property
    def can_operate(self) -> bool:
        return self.can(roles.OPERATE)

    @property
    def can_manage(self) -> bool:
        return self.can(roles.MANAGE)

    @property
    def can_bill(self) -> bool:
        return self.can(roles.BILLING)


ANONYMOUS = Access(user_id=None, username="anonymous", organization=None, role=None)


def access(request: Any) -> Access:
    """The request's :class:`Access`, computed on first use and kept on the request.

    ``request`` may be Django's HttpRequest or DRF's Request (which authenticates lazily, so the
    token is known by the time a view asks).
    """
    django_request: HttpRequest = getattr(request, "_request", request)
    cached = getattr(django_request, _CACHE, None)
    if cached is not None and cached.user_id == getattr(request.user, "pk", None):
        return cached
    resolved = resolve(request.user, getattr(request, "auth", None), _session_org(django_request))
    setattr(django_request, _CACHE, resolved)
    return resolved


def _session_org(request: HttpRequest) -> int | None:
    session = getattr(request, "session", None)
    raw = session.get(SESSION_KEY) if session is not None else None
    return raw if isinstance(raw, int) else None


def resolve(user: Any, auth: Any, wanted_org_id: int | None) -> Access:
    """Pure over its inputs plus one query: the user's memberships."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    memberships = tuple(Membership.objects.filter(user_id=user.pk).select_related("organization"))
    staff = bool(user.is_superuser)
    if isinstance(auth, ApiToken):
        return _token_access(user, auth, memberships, staff)
    chosen = next((m for m in memberships if m.organization_id == wanted_org_id), None)
    if chosen is None and memberships:
        chosen = memberships[0]
    if staff:
        organization = chosen.organization if chosen else _staff_org(wanted_org_id)
        return Access(
            user_id=user.pk,
            user=user,
            username=user.get_username(),
            organization=organization,
            role=roles.Role.ADMIN,
            staff=True,
            capabilities=roles.EVERYTHING,
            memberships=memberships,
        )
    if chosen is None:
        return Access(user_id=user.pk, user=user, username=user.get_username(), organization=None, role=None)
    return Access(
        user_id=user.pk,
        user=user,
        username=user.get_username(),
        organization=chosen.organization,
        role=chosen.role,
        capabilities=roles.capabilities(chosen.role),
        memberships=memberships,
    )


def _token_access(user: Any, token: ApiToken, memberships: tuple[Membership, ...], staff: bool) -> Access:
    """A token acts in its own organization only, with its role capped by the owner's role today."""
    holder = next((m for m in memberships if m.organization_id == token.organization_id), None)
    ceiling = roles.EVERYTHING if staff else roles.capabilities(holder.role if holder else None)
    return Access(
        user_id=user.pk,
        user=user,
        username=user.get_username(),
        organization=token.organization,
        role=token.role,
        # A staff user's token is still bound to its organization: staff-wide reach needs a session.
        staff=False,
        capabilities=roles.capabilities(token.role) & ceiling,
        memberships=memberships,
        token=token,
    )


def _staff_org(wanted_org_id: int | None) -> Organization | None:
    """Staff who belong nowhere act in the organization they switched to, else the default one."""
    from tenancy.models import default_organization

    if wanted_org_id is not None:
        found = Organization.objects.filter(pk=wanted_org_id).first()
        if found is not None:
            return found
    return default_organization()


def switch(request: HttpRequest, organization_id: int) -> bool:
    """Make ``organization_id`` the session's organization if the user may act in it."""
    current = access(request)
    allowed = current.staff or any(m.organization_id == organization_id for m in current.memberships)
    if not allowed or (current.staff and not Organization.objects.filter(pk=organization_id).exists()):
        return False
    request.session[SESSION_KEY] = organization_id
    setattr(request, _CACHE, None)
    return True
