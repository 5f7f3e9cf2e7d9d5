"""API authentication: named organization tokens (django-rest-knox) and the older DRF tokens.

New tokens start with ``TOKEN_PREFIX`` and are checked by knox (a SHA-512 digest looked up by
the key's first characters, compared in constant time). An older DRF token (40 hex characters,
from before tokens belonged to organizations) keeps working until its owner rotates it; it
acts in the owner's first organization with the owner's role there.
"""

from __future__ import annotations

from datetime import timedelta
from hmac import compare_digest
from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as LegacyAuthentication
from rest_framework.authentication import get_authorization_header

from tenancy import throttle
from tenancy.models import ApiToken

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class OrganizationTokenAuthentication(KnoxAuthentication):
    """knox, minus its habit of deleting expired tokens during a lookup (we keep them to list them)."""

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"token":
            return None
        if not parts[1].decode("latin-1").startswith(knox_settings.TOKEN_PREFIX):
            return None
        throttle.check(request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, token: bytes) -> tuple[Any, ApiToken]:
        """knox's lookup, with the organization joined and without deleting expired rows."""
        key = token.decode("utf-8", errors="replace")
        digest = hash_token(key)
        now = timezone.now()
        candidates = ApiToken.objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
            "user", "organization"
        )
        for candidate in candidates:
            if compare_digest(digest, candidate.digest):
                if candidate.revoked_at is not None:
                    raise exceptions.AuthenticationFailed("Token revoked.")
                if candidate.expiry is not None and candidate.expiry <= now:
                    raise exceptions.AuthenticationFailed("Token expired.")
                return self.validate_user(candidate)
        raise exceptions.AuthenticationFailed("Invalid token.")

    def validate_user(self, auth_token: ApiToken) -> tuple[Any, ApiToken]:
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token


class LegacyTokenAuthentication(LegacyAuthentication):
    """DRF's own tokens, for clients set up before organization tokens existed."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if len(parts) == 2 and parts[1].decode("latin-1").startswith(knox_settings.TOKEN_PREFIX):
            return None
        if len(parts) == 2 and parts[0].lower() == b"token":
            throttle.check(request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure(request)
            raise

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        try:
            return super().authenticate_credentials(key)
        except exceptions.AuthenticationFailed:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
