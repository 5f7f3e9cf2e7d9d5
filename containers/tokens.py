"""A user's own API token (DRF's ``authtoken``, one per user): create a new one, or revoke it.

Each action writes an Event naming the token by its first characters only; the key itself is
returned once to the caller and never logged.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.authtoken.models import Token

from containers.models import record

# How much of a key the console shows again after creation, and the event log records.
PREFIX_LENGTH = 6


def create_token(user: User, *, actor: str) -> Token:
    """A new token for ``user``, replacing any existing one (clients using the old key stop working)."""
    with transaction.atomic():
        # The key is the token's primary key, which delete() clears: keep its prefix first.
        old = Token.objects.filter(user=user).values_list("key", flat=True).first()
        old_prefix = old[:PREFIX_LENGTH] if old else ""
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        record(
            "token.created",
            actor=actor,
            message=f"API token {token.key[:PREFIX_LENGTH]}… created for {user.get_username()}"
            + (f", replacing {old_prefix}…" if old_prefix else ""),
            before={"prefix": old_prefix} if old_prefix else None,
            after={"prefix": token.key[:PREFIX_LENGTH]},
        )
    return token


def revoke_token(user: User, *, actor: str) -> bool:
    """Delete ``user``'s token; False if there was none."""
    with transaction.atomic():
        key = Token.objects.select_for_update().filter(user=user).values_list("key", flat=True).first()
        if key is None:
            return False
        Token.objects.filter(key=key).delete()
        record(
            "token.revoked",
            actor=actor,
            message=f"API token {key[:PREFIX_LENGTH]}… of {user.get_username()} revoked",
            before={"prefix": key[:PREFIX_LENGTH]},
        )
    return True
