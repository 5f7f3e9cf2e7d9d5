"""Django admin for service endpoints.

Edits here are raw data edits: they bypass the registry's API, and the orchestrator rewrites
the endpoints it registered for its own containers.
"""

from __future__ import annotations

from django.contrib import admin

from registry.models import ServiceEndpoint


@admin.register(ServiceEndpoint)
class ServiceEndpointAdmin(admin.ModelAdmin):
    list_display = ("service", "host", "port", "protocol", "status", "container", "updated_at")
    list_select_related = ("container",)
    list_filter = ("status", "protocol")
    search_fields = ("service", "host", "container__name", "^container__docker_id")
    date_hierarchy = "created_at"
    autocomplete_fields = ("container",)
    readonly_fields = ("created_at", "updated_at")
