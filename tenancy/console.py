"""Helpers for the console's function views: the role check every mutating view makes, and the
template context (the organization switcher, the role-gated buttons).

The check runs after the object's scoped lookup, so another organization's id is a 404 first;
a button a role may not use is left out of the page by the same ``access`` and refused here anyway.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from tenancy.access import access
from tenancy.roles import OPERATE


def require_role(request: HttpRequest, capability: str = OPERATE) -> None:
    """403 unless the signed-in user's role in the current organization holds ``capability``."""
    if not access(request).can(capability):
        raise PermissionDenied("Your role in this organization may not do this.")


def context(request: HttpRequest) -> dict[str, Any]:
    """``access`` for every template (lazily: pages without a user never query)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"access": access(request)}
