"""``manage.py rotate_env_key``: re-encrypt every secret at rest with a new key.

With the embedded key file (``var/env-encryption.key``) it does the whole rotation: a new key goes
first in the file (running processes then encrypt with it and still decrypt with the old one),
every value is re-encrypted, and the old key is dropped. With ``ENV_ENCRYPTION_KEYS`` the operator
owns the keys: put the new key first, restart, run this, then remove the old key and restart again.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from orchestrator_site import encryption, varfiles


def reencrypt_all() -> int:
    """Save every encrypted value again, so it is encrypted with the newest key; returns how many."""
    count = 0
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, encryption.EncryptedJSONField)]
        for field in fields:
            with transaction.atomic():
                rows = model._default_manager.select_for_update().values_list("pk", field.attname)
                for pk, value in rows:
                    model._default_manager.filter(pk=pk).update(**{field.attname: value})
                    count += 1
    return count


class Command(BaseCommand):
    help = "Re-encrypt the env values at rest with a new key (the key file) or the first of ENV_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENV_ENCRYPTION_KEYS:
            count = reencrypt_all()
            self.stdout.write(
                f"re-encrypted {count} value(s) with the first key of ENV_ENCRYPTION_KEYS; "
                "remove the older keys from it and restart"
            )
            return
        path = encryption.key_file()
        old = encryption.keys()
        new = Fernet.generate_key().decode()
        varfiles.replace(path, "\n".join([new, *old]))
        count = reencrypt_all()
        varfiles.replace(path, new)
        self.stdout.write(f"re-encrypted {count} value(s) with a new key in {path}; the old key is gone")
