"""Every path of the health app: the seed's health, resources and integration paths (exact, with or
without a trailing slash), Prometheus' ``/metrics``, the health API under ``/api/`` (metrics history,
probes, alert rules and deliveries, autoscalers) and the health console pages.

Included before the containers app's paths, which its ``/containers/instances/{id}/health`` and
``/api/containers/{id}/metrics`` would otherwise collide with.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path
from rest_framework.routers import SimpleRouter

from containers.views.resource_pages import urls as resource_urls
from health import console, metrics, views
from health.api import rules
from health.api import views as api_views
from health.console_pages import ALERT_RULES, AUTOSCALERS, PROBES

# A SimpleRouter: no API root of its own.
router = SimpleRouter(trailing_slash="/?")  # type: ignore[arg-type]  # DRF takes a pattern here too
router.register(r"api/probes", rules.ProbeViewSet, basename="probe")
router.register(r"api/alert-rules", rules.AlertRuleViewSet, basename="alert-rule")
router.register(r"api/alert-deliveries", rules.AlertDeliveryViewSet, basename="alert-delivery")
router.register(r"api/autoscalers", rules.AutoscalerViewSet, basename="autoscaler")

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^health/?$", views.health, name="health"),
    re_path(r"^health/detailed/?$", views.health_detailed, name="health-detailed"),
    re_path(r"^system/resources/?$", views.system_resources, name="system-resources"),
    re_path(r"^test/integration/?$", views.test_integration, name="test-integration"),
    re_path(
        r"^containers/instances/(?P<id>[^/]+)/health/?$",
        views.container_instance_health,
        name="container-instance-health",
    ),
    re_path(r"^metrics/?$", metrics.MetricsView.as_view(), name="metrics"),
    re_path(
        r"^api/containers/(?P<id>[^/]+)/metrics/?$",
        api_views.ContainerMetricsView.as_view(),
        name="container-metrics",
    ),
    *router.urls,
    # The console. The dashboard's host panel is ours (the dashboard itself is the containers app's).
    path("partials/host/", console.host_partial, name="host-partial"),
    path("console/health/", console.fleet, name="health-fleet"),
    path("console/health/rows/", console.fleet_rows, name="health-fleet-rows"),
    path("console/health/containers/<int:pk>/", console.container_charts, name="health-container"),
    # Alert rules, autoscalers and probes: list, create, edit, delete (containers.views.resource_pages).
    *resource_urls(ALERT_RULES),
    *resource_urls(AUTOSCALERS),
    *resource_urls(PROBES),
]
