"""``manage.py wait_for_db``: block until the database accepts connections, then exit 0.

Every process of the compose stack starts with it, so a PostgreSQL that is still starting (or
restarting) makes them wait instead of crash-looping; after ``--timeout`` seconds it gives up
with one line and status 1, and the container's restart policy takes over.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connection

# One line every this many seconds while waiting: enough to see why a start is slow, not a flood.
_REPORT_EVERY_S = 5.0


class Command(BaseCommand):
    help = "Wait until the database accepts connections (for containers that start before it is ready)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait before giving up")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between attempts")

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = time.monotonic() + options["timeout"]
        next_report = time.monotonic()
        while True:
            try:
                connection.ensure_connection()
                break
            except OperationalError as exc:
                last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            connection.close()
            now = time.monotonic()
            if now >= deadline:
                raise CommandError(f"the database did not answer within {options['timeout']:g} s: {last}")
            if now >= next_report:
                self.stderr.write(f"waiting for the database: {last}")
                next_report = now + _REPORT_EVERY_S
            time.sleep(options["interval"])
        connection.close()
        if options["verbosity"] >= 2:
            self.stdout.write("the database answers")
