"""``manage.py watch_engine``: the watcher process (see containers/watcher.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from containers import watcher


class Command(BaseCommand):
    help = "Follow Docker events and queue an immediate reconcile when a managed container dies."

    def handle(self, *args: Any, **options: Any) -> None:
        watcher.run()
