"""Django admin for the processes' heartbeats."""

from __future__ import annotations

from django.contrib import admin

from orchestrator_site.processes.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("component", "seen_at")
    search_fields = ("component",)
    date_hierarchy = "seen_at"
    ordering = ("component",)
