"""The one place that decides which rows a request may see: ``scope(queryset, access)``.

Every console view, API viewset, seed path, partial, chart and export starts from a scoped
queryset, so another organization's object is simply not found (404, never 403: ids can't be
probed) and no filter or id in a querystring can widen what the scope allows, because the
filter is applied to the scoped queryset, never instead of it.

A model says where its organization is with ``tenancy_path`` (a lookup such as
``"organization"`` or ``"deployment__organization"``); ``tenancy_shared = True`` adds rows
whose organization is empty (the shared demo image) to what members can read.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from tenancy.access import Access
from tenancy.roles import READ

M = TypeVar("M", bound=Model)


class Unscoped(Exception):
    """A model without ``tenancy_path`` was passed to the scope: a programming error, never a silent leak."""


def organization_path(model: type[Model]) -> str:
    path = getattr(model, "tenancy_path", None)
    if not path:
        raise Unscoped(f"{model.__name__} has no tenancy_path: say where its organization is")
    return str(path)


def scope(queryset: QuerySet[M], access: Access, *, shared: bool = True, capability: str = READ) -> QuerySet[M]:
    """``queryset`` narrowed to what ``access`` may read.

    Staff (a signed-in superuser's session) see every organization. Anyone else sees their
    current organization's rows (plus shared rows where the model has them and ``shared``),
    and only with ``capability`` (``read``; billing's rows ask for ``billing``): a billing-only
    role reads no deployments, a viewer no invoices.
    """
    path = organization_path(queryset.model)
    if access.staff:
        return queryset
    if access.organization_id is None or not access.can(capability):
        return queryset.none()
    allowed = Q(**{path: access.organization_id})
    if shared and getattr(queryset.model, "tenancy_shared", False):
        allowed |= Q(**{f"{path}__isnull": True})
    return queryset.filter(allowed)


def owned(queryset: QuerySet[M], access: Access) -> QuerySet[M]:
    """Rows the caller's organization owns (shared rows excluded): what it may change."""
    return scope(queryset, access, shared=False)


def get_or_404(queryset: QuerySet[M], access: Access, **lookup: Any) -> M:
    """One row the caller may read, or 404 whether it exists elsewhere or not at all."""
    try:
        return scope(queryset, access).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):  # every model's DoesNotExist is one
        raise Http404(f"no {queryset.model._meta.verbose_name} {lookup}") from None
