"""Django admin for the processes' heartbeats and the containers' current health (both written by the processes)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from health.models import ContainerHealth, Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("component", "seen_at")
    search_fields = ("component",)
    date_hierarchy = "seen_at"
    ordering = ("component",)


@admin.register(ContainerHealth)
class ContainerHealthAdmin(admin.ModelAdmin):
    """Read-only: every sampling round rewrites these rows."""

    list_display = ("container", "health_class", "cpu_pct", "memory_pct", "memory_bytes", "sampled_at", "class_since")
    list_filter = ("health_class", "source")
    list_select_related = ("container",)
    search_fields = ("container__name", "container__docker_id")
    ordering = ("container__name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ContainerHealth | None = None) -> bool:
        return False
