"""Console page for the signed-in user: who they are, and their API token (create, replace, revoke).

The token is an organization token (``containers.tokens``): bound to the organization the user
acts in, with the user's role there. A new key is shown once, on the very response that created
it (rendered, not redirected, and never cached); every later view shows only its first characters.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from containers import tokens
from tenancy.access import access
from tenancy.errors import TenancyError


def account_page(request: HttpRequest, new_key: str = "", status: int = 200) -> HttpResponse:
    who = access(request)
    older = tokens.legacy(who)
    context = {
        "token": tokens.current(who),
        "legacy_prefix": older.key[: tokens.LEGACY_PREFIX_LENGTH] if older else "",
        "legacy": older,
        "new_key": new_key,
        "access": who,
    }
    return render(request, "account/account.html", context, status=status)


@never_cache
@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    return account_page(request)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    """GET asks before replacing an existing token; POST creates one, its key on this response and nowhere else."""
    if request.method == "GET":
        return confirm(request, "replace")
    try:
        _, key = tokens.create_token(access(request))
    except TenancyError as exc:
        messages.error(request, exc.message)
        return account_page(request, status=exc.status)
    return account_page(request, new_key=key)


def confirm(request: HttpRequest, action: str) -> HttpResponse:
    """The confirmation page for replacing or revoking the token; without a token, back to the account."""
    who = access(request)
    token, older = tokens.current(who), tokens.legacy(who)
    if token is None and older is None:
        return redirect("account")
    prefix = token.token_key if token else older.key[: tokens.LEGACY_PREFIX_LENGTH]  # type: ignore[union-attr]
    return render(request, "account/confirm.html", {"action": action, "token_prefix": prefix})


@require_http_methods(["GET", "POST"])
@login_required
def token_revoke(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST revokes the token."""
    if request.method == "GET":
        return confirm(request, "revoke")
    if tokens.revoke_token(access(request)):
        messages.success(request, "Your API token is revoked: requests with it are now refused.")
    return redirect("account")
