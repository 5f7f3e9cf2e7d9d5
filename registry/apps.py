"""The registry app: service endpoints, services and their HAProxy frontends, discovery."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Service registry"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from containers import hooks
        from registry import drain, endpoints, services
        from registry.models import ServiceEndpoint

        if endpoints.after_converge not in hooks.after_converge:
            hooks.after_converge.append(endpoints.after_converge)
        if services.lb_urls not in hooks.lb_urls:
            hooks.lb_urls.append(services.lb_urls)
        if drain.before_container_stop not in hooks.before_container_stop:
            hooks.before_container_stop.append(drain.before_container_stop)
        # Bookkeeping only: every write to an endpoint, including the cascade when its container's
        # row goes and edits in the admin, stamps its service with a new registry index.
        post_save.connect(_endpoint_changed, sender=ServiceEndpoint, dispatch_uid="registry-endpoint-saved")
        post_delete.connect(_endpoint_changed, sender=ServiceEndpoint, dispatch_uid="registry-endpoint-deleted")


def _endpoint_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from registry import services

    services.touch(instance.service)
