"""``manage.py create_token <username>``: print the API token of an existing user (created if it has none)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print the API token of an existing user, creating the token if the user has none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            # CommandError: one line on stderr and exit status 1, no traceback.
            raise CommandError(f"no user named {username!r} (create one with: manage.py createsuperuser)")
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
