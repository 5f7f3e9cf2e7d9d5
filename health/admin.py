"""Django admin for the containers' current health (written by the sampler), probes, alerts and autoscalers."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from health.models import AlertDelivery, AlertRule, Autoscaler, ContainerHealth, Probe


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


@admin.register(Probe)
class ProbeAdmin(admin.ModelAdmin):
    list_display = ("deployment", "kind", "type", "path", "expected_status", "period_s", "failure_threshold", "enabled")
    list_filter = ("kind", "type", "enabled")
    list_select_related = ("deployment",)
    search_fields = ("deployment__name",)


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "deployment", "webhook_url", "cooldown_s", "enabled")
    list_filter = ("enabled",)
    list_select_related = ("deployment",)
    search_fields = ("name", "deployment__name")


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    """Read-only: the alert task records every delivery."""

    list_display = ("at", "rule", "channel", "status", "response_code", "target")
    list_filter = ("channel", "status")
    list_select_related = ("rule",)
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AlertDelivery | None = None) -> bool:
        return False


@admin.register(Autoscaler)
class AutoscalerAdmin(admin.ModelAdmin):
    list_display = ("deployment", "enabled", "min_replicas", "max_replicas", "target_cpu_pct", "stabilization_s")
    list_filter = ("enabled",)
    list_select_related = ("deployment",)
    search_fields = ("deployment__name",)
    exclude = ("recommendations",)
