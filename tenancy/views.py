"""Console pages of the organization: switch between your organizations, Members, Tokens, Quotas.

Every action calls the same function as the API (``tenancy.members``, ``tenancy.tokens``,
``tenancy.quotas``), which checks the role again: a button that is absent for a role is also
refused if posted by hand. A new token's key is on the response that created it and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tenancy import members, quotas, roles, tokens
from tenancy.access import Access, access, switch
from tenancy.errors import TenancyError
from tenancy.models import ApiToken, Membership, Organization
from tenancy.scope import get_or_404, scope


def _current_organization(current: Access) -> Organization:
    """The organization the caller acts in; a user in none has nothing to change (404)."""
    if current.organization is None:
        raise Http404("You belong to no organization.")
    return current.organization


def _fail(request: HttpRequest, exc: TenancyError) -> None:
    if exc.status == 403:
        raise PermissionDenied(exc.message)
    messages.error(request, exc.message)


@require_POST
@login_required
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Make another of your organizations the current one; back where you came from."""
    raw = request.POST.get("organization", "")
    if not raw.isdigit() or not switch(request, int(raw)):
        raise PermissionDenied("You do not belong to that organization.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    # A detail page of the previous organization would be a 404 now: go to its list instead.
    return redirect(target or "dashboard")


@require_GET
@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    current = access(request)
    rows = scope(Membership.objects.select_related("user"), current).order_by("user__username")
    if current.staff:
        rows = rows.filter(organization=current.organization)
    context = {"memberships": rows, "roles": roles.Role.choices}
    return render(request, "tenancy/members.html", context)


@require_POST
@login_required
def member_add(request: HttpRequest) -> HttpResponse:
    current = access(request)
    try:
        username, role = request.POST.get("username", ""), request.POST.get("role", "")
        members.add_member(_current_organization(current), username, role, access=current)
        messages.success(request, f"{request.POST.get('username')} added.")
    except TenancyError as exc:
        _fail(request, exc)
    return redirect("tenancy-members")


def _on_membership(request: HttpRequest, pk: int, act: Callable[[Membership, Access], str]) -> HttpResponse:
    """Apply one membership action (it checks the role again) and say what it did; back to Members."""
    current = access(request)
    membership = get_or_404(Membership.objects.select_related("user", "organization"), current, pk=pk)
    try:
        messages.success(request, act(membership, current))
    except TenancyError as exc:
        _fail(request, exc)
    return redirect("tenancy-members")


@require_POST
@login_required
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    def change(membership: Membership, current: Access) -> str:
        members.change_role(membership, request.POST.get("role", ""), access=current)
        return f"{membership.user} is now {membership.role}."

    return _on_membership(request, pk, change)


@require_POST
@login_required
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    def remove(membership: Membership, current: Access) -> str:
        members.remove_member(membership, access=current)
        return f"{membership.user} removed."

    return _on_membership(request, pk, remove)


def _tokens_page(request: HttpRequest, new_key: str = "", new_token: ApiToken | None = None) -> HttpResponse:
    current = access(request)
    context = {
        "tokens": tokens.visible_tokens(current).filter(organization_id=current.organization_id),
        "grantable": roles.grantable(current.role) if not current.staff else roles.Role.values,
        "new_key": new_key,
        "new_token": new_token,
        "now": timezone.now(),
    }
    return render(request, "tenancy/tokens.html", context)


@never_cache
@require_GET
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request)


@never_cache
@require_POST
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    """The key is rendered on this response only (no redirect, never cached)."""
    raw_expiry = request.POST.get("expiry", "").strip()
    try:
        expiry = None
        if raw_expiry:
            try:
                day = datetime.strptime(raw_expiry, "%Y-%m-%d").date()
            except ValueError:
                raise TenancyError("expiry must be a date (YYYY-MM-DD)", field="expiry") from None
            expiry = timezone.make_aware(datetime.combine(day, time.max.replace(microsecond=0)))
        token, key = tokens.create_token(
            access(request), name=request.POST.get("name", ""), role=request.POST.get("role", ""), expiry=expiry
        )
    except TenancyError as exc:
        _fail(request, exc)
        return _tokens_page(request)
    return _tokens_page(request, new_key=key, new_token=token)


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    current = access(request)
    token = tokens.visible_tokens(current).filter(pk=pk).first()
    if token is None:
        raise Http404("no such token")
    try:
        if tokens.revoke_token(token, access=current):
            messages.success(request, f"Token {token.name!r} revoked: requests with it are now refused.")
    except TenancyError as exc:
        _fail(request, exc)
    return redirect("tenancy-tokens")


@require_GET
@login_required
def quota_page(request: HttpRequest) -> HttpResponse:
    current = access(request)
    if current.organization is None:
        raise PermissionDenied("You belong to no organization.")
    context = {"organization": current.organization, "rows": quotas.usage_rows(current.organization)}
    return render(request, "tenancy/quotas.html", context)


@require_POST
@login_required
def quota_edit(request: HttpRequest) -> HttpResponse:
    """Staff set the current organization's quotas; an empty field removes that limit."""
    current = access(request)
    if not current.staff:
        raise PermissionDenied("Only staff may change quotas.")
    values: dict[str, object] = {}
    try:
        for name, _, unit in quotas.QUOTAS:
            raw = request.POST.get(name, "").strip()
            values[name] = _parse_quota(name, raw, unit)
        quotas.set_quotas(_current_organization(current), values, access=current)
        messages.success(request, "Quotas saved.")
    except TenancyError as exc:
        _fail(request, exc)
    return redirect("tenancy-quotas")


def _parse_quota(name: str, raw: str, unit: str) -> object:
    from decimal import Decimal, InvalidOperation

    if not raw:
        return None
    try:
        if unit == "cores":
            value: object = Decimal(raw)
        elif unit == "bytes":
            value = int(Decimal(raw) * 1024**2)  # the form asks for MiB
        else:
            value = int(raw)
    except (InvalidOperation, ValueError):
        raise TenancyError(f"{name} must be a number", field=name) from None
    if Decimal(str(value)) < 0:
        raise TenancyError(f"{name} can't be negative", field=name)
    return value
