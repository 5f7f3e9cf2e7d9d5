"""Who may see billing: staff, an organization's admins and its billing role; nobody else.

Every billing path asks :func:`require` first (others get a 403 naming why) and then reads
through :func:`scoped`, tenancy's one scope function asked for the ``billing`` capability, so
another organization's invoice is simply not found (404).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from tenancy.access import Access, access
from tenancy.roles import BILLING, READ
from tenancy.scope import scope

M = TypeVar("M", bound=Model)
REFUSAL = "Billing is for staff, the organization's admins and its billing role."


def require(request: Any) -> Access:
    """The request's access if it may see billing, else PermissionDenied (403)."""
    current = access(request)
    if not current.can(BILLING):
        raise PermissionDenied(REFUSAL)
    return current


def scoped(queryset: QuerySet[M], current: Access) -> QuerySet[M]:
    return scope(queryset, current, capability=BILLING)


def lookup(queryset: QuerySet[M], current: Access) -> QuerySet[M]:
    """The organization's rows whatever the caller's role in it, for a detail path's lookup: another
    organization's object is a 404 for everyone; :func:`require` follows with the 403."""
    return scope(queryset, current, capability=BILLING if current.can(BILLING) else READ)
