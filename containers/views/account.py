"""Console page for the signed-in user: who they are, and their API token (create, revoke).

A new key is shown once, on the very response that created it (rendered, not redirected, and
never cached); every later view shows only its first characters. The actions live in
``containers.tokens`` and write the events.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.authtoken.models import Token

from containers import tokens
from containers.models import actor_name


def signed_in(request: HttpRequest) -> User:
    """The user of a view behind ``login_required``: never anonymous there."""
    return cast(User, request.user)


def account_page(request: HttpRequest, new_key: str = "") -> HttpResponse:
    token = Token.objects.filter(user=signed_in(request)).first()
    context = {
        "token": token,
        "token_prefix": token.key[: tokens.PREFIX_LENGTH] if token else "",
        "new_key": new_key,
    }
    return render(request, "account/account.html", context)


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
    token = tokens.create_token(signed_in(request), actor=actor_name(request.user))
    return account_page(request, new_key=token.key)


def confirm(request: HttpRequest, action: str) -> HttpResponse:
    """The confirmation page for replacing or revoking the token; without a token, back to the account."""
    token = Token.objects.filter(user=signed_in(request)).first()
    if token is None:
        return redirect("account")
    context = {"action": action, "token_prefix": token.key[: tokens.PREFIX_LENGTH]}
    return render(request, "account/confirm.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def token_revoke(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST deletes the token."""
    if request.method == "GET":
        return confirm(request, "revoke")
    if tokens.revoke_token(signed_in(request), actor=actor_name(request.user)):
        messages.success(request, "Your API token is revoked: requests with it are now refused.")
    return redirect("account")
