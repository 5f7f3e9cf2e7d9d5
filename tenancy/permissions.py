"""The DRF permission every API view gets by default: reads pass to the scoped queryset, writes need
the ``operate`` capability (or the one a view names in ``tenancy_capability``).

On a detail path the check waits for the object: the scoped lookup answers 404 for another
organization's id first, so a viewer of organization B learns nothing about organization A's ids,
and only then does a viewer of the owning organization get its 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenancy.access import access
from tenancy.roles import OPERATE

# A view sets tenancy_capability = SELF_CHECKED when its actions check roles themselves
# (members, tokens: a viewer may make a read-only token for itself).
SELF_CHECKED = ""


def needed(request: Any, view: Any) -> str:
    if request.method in SAFE_METHODS:
        return SELF_CHECKED
    return getattr(view, "tenancy_capability", OPERATE)


class RolePermission(BasePermission):
    message = "Your role in this organization may not do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        capability = needed(request, view)
        # Viewsets' detail routes check after get_object(); plain views that look their object up
        # first (so another organization's id is a 404) say so and call require() themselves.
        if not capability or getattr(view, "detail", False) or getattr(view, "tenancy_lookup_first", False):
            return True
        return access(request).can(capability)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        capability = needed(request, view)
        return not capability or access(request).can(capability)


def require(request: Any, capability: str = OPERATE) -> None:
    """For plain API views (the seed's paths): 403 unless the caller holds ``capability``."""
    from rest_framework.exceptions import PermissionDenied

    if not access(request).can(capability):
        raise PermissionDenied(RolePermission.message)
