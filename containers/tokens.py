"""The account page's API token: one organization token (django-rest-knox, ``tenancy.ApiToken``) per
user and organization, named ``ACCOUNT_TOKEN``, with the user's own role there. Create, replace, revoke.

Creating one also retires the user's older DRF token (from before tokens belonged to organizations):
that is its rotation; until then the older token keeps working. The key is returned once and never
logged; the events are tenancy's (``token.created`` / ``token.revoked``, naming the key's first
characters only). Tokens with other names, roles or expiries are made on the organization's Tokens page.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from containers.models import record
from tenancy import roles
from tenancy import tokens as organization_tokens
from tenancy.access import Access
from tenancy.models import ApiToken

ACCOUNT_TOKEN = "account"
# How much of an older DRF key the page shows and the event log records.
LEGACY_PREFIX_LENGTH = 6


def current(who: Access) -> ApiToken | None:
    """The caller's live account token in the organization it acts in, if any."""
    if who.user_id is None or who.organization_id is None:
        return None
    return (
        ApiToken.objects.filter(
            user_id=who.user_id, organization_id=who.organization_id, name=ACCOUNT_TOKEN, revoked_at__isnull=True
        )
        .exclude(expiry__lte=timezone.now())
        .order_by("-created")
        .first()
    )


def legacy(who: Access) -> Token | None:
    """The caller's older DRF token, if it still has one."""
    return Token.objects.filter(user_id=who.user_id).first() if who.user_id is not None else None


def create_token(who: Access) -> tuple[ApiToken, str]:
    """A new account token with the caller's role, replacing the previous one and the older DRF token.

    Returns the row and the key (shown once). Staff without a membership get an admin token of the
    organization they act in.
    """
    role = who.role or (roles.Role.ADMIN if who.staff else "")
    with transaction.atomic():
        token, key = organization_tokens.create_token(who, name=ACCOUNT_TOKEN, role=role)
        previous = ApiToken.objects.filter(
            user_id=who.user_id, organization_id=who.organization_id, name=ACCOUNT_TOKEN, revoked_at__isnull=True
        ).exclude(pk=token.pk)
        for old in previous:
            organization_tokens.revoke_token(old, access=who)
        _retire_legacy(who)
    return token, key


def revoke_token(who: Access) -> bool:
    """Revoke the caller's account token and older DRF token; False if there was neither."""
    revoked = False
    with transaction.atomic():
        token = current(who)
        if token is not None:
            revoked = organization_tokens.revoke_token(token, access=who)
        revoked = _retire_legacy(who) or revoked
    return revoked


def _retire_legacy(who: Access) -> bool:
    if who.user_id is None:
        return False
    key = Token.objects.select_for_update().filter(user_id=who.user_id).values_list("key", flat=True).first()
    if key is None:
        return False
    Token.objects.filter(key=key).delete()
    record(
        "token.revoked",
        actor=who.username,
        organization_id=who.organization_id,
        message=f"older API token {key[:LEGACY_PREFIX_LENGTH]}… of {who.username} revoked",
        before={"prefix": key[:LEGACY_PREFIX_LENGTH], "kind": "legacy"},
    )
    return True
