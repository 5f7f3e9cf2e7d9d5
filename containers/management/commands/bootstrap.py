"""``manage.py bootstrap``: idempotent first-run setup for ``make run``.

Creates the ``admin`` superuser if missing (its random password kept in ``var/admin-password``,
mode 0600, and reused from there), gives it an API token, makes sure the demo image exists,
and prints how to log in and call the API. The password and the token are printed only by the run
that created them (make run's output ends up in logs); later runs say where to find them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from containers import engine
from containers.demo_image import DemoImageUnavailable, ensure_demo_image
from tenancy.models import Membership, default_organization
from tenancy.roles import Role

USERNAME = "admin"
ACTOR = "bootstrap"


def admin_password(path: Path) -> str:
    """The password kept in ``path``, or a new random one written there (readable by the owner only)."""
    if path.exists():
        password = path.read_text().strip()
        if password:
            return password
    password = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    path.chmod(0o600)  # O_CREAT's mode does not apply to a file that already existed
    return password


class Command(BaseCommand):
    help = "First-run setup (idempotent): the admin user, its API token and the demo image; prints how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the console will answer")

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = Path(settings.VAR_DIR) / "admin-password"
        user_model = get_user_model()
        user = user_model.objects.filter(username=USERNAME).first()
        # Credentials are printed only by the run that created them: make run's output ends up in logs.
        if user is None:
            password = admin_password(password_file)
            user = user_model.objects.create_superuser(USERNAME, "", password)
            self.stdout.write(f"created superuser {USERNAME}")
            shown = f"{password}   (kept in {password_file})"
        elif password_file.exists() and user.check_password(password_file.read_text().strip()):
            shown = f"in {password_file} (printed only when it was created)"
        else:
            shown = f"(unchanged: {USERNAME} existed already and its password is not the one in {password_file})"
        # make run's admin is the default organization's admin (its rows moved there when tenancy came).
        Membership.objects.update_or_create(
            user=user, organization=default_organization(), defaults={"role": Role.ADMIN}
        )
        token, token_created = Token.objects.get_or_create(user=user)
        if token_created:
            token_shown, curl_token = token.key, token.key
        else:
            token_shown, curl_token = f"created earlier; print it with: manage.py create_token {USERNAME}", "$TOKEN"

        try:
            image = ensure_demo_image(actor=ACTOR)
        except (DemoImageUnavailable, engine.EngineError) as exc:
            raise CommandError(f"could not make the demo image {settings.DEMO_IMAGE}: {exc}") from exc

        url = options["url"].rstrip("/") + "/"
        lines = [
            "",
            "The orchestrator is set up.",
            f"  Console:    {url}",
            f"  Username:   {USERNAME}",
            f"  Password:   {shown}",
            f"  API token:  {token_shown}",
            f"  Demo image: {image.reference}",
            "  Try:",
            f'    curl -H "Authorization: Token {curl_token}" {url}containers',
            "",
        ]
        self.stdout.write("\n".join(lines))
