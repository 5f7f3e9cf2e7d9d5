"""The health app: sampling, probes, alerts, autoscaling."""

from __future__ import annotations

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        from containers import hooks
        from health import probes

        # A rollout asks a deployment's readiness probe whether a new container may take traffic.
        if probes.ready_for not in hooks.readiness:
            hooks.readiness.append(probes.ready_for)
