from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Service registry"

    def ready(self) -> None:
        from containers import hooks
        from registry import endpoints

        if endpoints.after_converge not in hooks.after_converge:
            hooks.after_converge.append(endpoints.after_converge)
