"""Run HAProxy in the foreground on the registry's config, for a process supervisor.

Renders the config from the database, then becomes HAProxy (master-worker). If the load-balancer
tick already started one (HAPROXY_START=auto), this waits until that one is gone.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from registry import haproxy, loadbalancer


class Command(BaseCommand):
    help = "Render HAProxy's config from the registry and run HAProxy in the foreground."

    def handle(self, *args: Any, **options: Any) -> None:
        loadbalancer.write_config()
        haproxy.exec_foreground()
