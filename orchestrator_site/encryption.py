"""Encryption at rest for secret values kept in the database (deployments' env), with Fernet.

Keys, newest first:

- ``ENV_ENCRYPTION_KEYS`` (or ``ENV_ENCRYPTION_KEYS_FILE``): comma-separated Fernet keys, for
  production, where the key belongs in a secret store and not next to the database; or else
- ``var/env-encryption.key``: one key a line, created (0600) on first use, for the embedded default.

The first key encrypts; every key decrypts (``MultiFernet``), so a key is rotated by putting a new
one first, re-encrypting (``manage.py rotate_env_key``) and then dropping the old one. The key file
is re-read whenever it changes, so a rotation reaches running processes without a restart.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from orchestrator_site import varfiles

KEY_FILE = "env-encryption.key"
# Every Fernet token starts with version byte 0x80, which is "gAAAAA" in urlsafe base64.
TOKEN_PREFIX = "gAAAAA"

_cache: dict[str, Any] = {}
_lock = threading.Lock()


class DecryptionFailed(ImproperlyConfigured):
    """A stored value does not decrypt with any configured key (wrong or missing key)."""


def key_file() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE


def keys() -> list[str]:
    """The configured keys, newest first (the environment's, else the key file's, created if missing)."""
    if settings.ENV_ENCRYPTION_KEYS:
        return list(settings.ENV_ENCRYPTION_KEYS)
    path = key_file()
    if not path.exists():
        varfiles.create_once(path, lambda: Fernet.generate_key().decode())
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def fernet() -> MultiFernet:
    """The MultiFernet for the current keys; rebuilt only when they change."""
    configured = tuple(settings.ENV_ENCRYPTION_KEYS)
    stamp: tuple[Any, ...] = configured
    if not configured:
        path = key_file()
        stat = path.stat() if path.exists() else None
        stamp = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino) if stat else (str(path),)
    with _lock:
        if _cache.get("stamp") != stamp or "fernet" not in _cache:
            try:
                built = MultiFernet([Fernet(key.encode()) for key in keys()])
            except ValueError as exc:
                raise ImproperlyConfigured(f"an env encryption key is not a Fernet key: {exc}") from None
            # keys() may have just created the file: stamp it as it is now.
            if not configured:
                stat = key_file().stat()
                stamp = (str(key_file()), stat.st_mtime_ns, stat.st_size, stat.st_ino)
            _cache.update(stamp=stamp, fernet=built)
        return _cache["fernet"]


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed(
            "a stored secret does not decrypt with the configured env encryption key(s): "
            "ENV_ENCRYPTION_KEYS or var/env-encryption.key is not the key it was encrypted with"
        ) from None


def rotate(token: str) -> str:
    """``token`` re-encrypted with the newest key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.TextField):
    """A JSON value stored as a Fernet token: the database (and its backups) never hold the plaintext.

    Nothing can filter on it, which is intended: it holds secrets. A row written before encryption
    (plain JSON text) still reads, and is encrypted on its next save (migration 0002 saves them all).
    """

    # For django-stubs: the attribute holds JSON values (a dict for env), not the text stored.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else self._load(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._load(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, sort_keys=True))

    def value_to_string(self, obj: Any) -> str:
        # dumpdata writes the token, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj)) or ""

    @staticmethod
    def _load(value: str) -> Any:
        if value.startswith(TOKEN_PREFIX):
            return json.loads(decrypt(value))
        return json.loads(value) if value else None
