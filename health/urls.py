"""The seed's health, resources and integration paths (exact, with or without a trailing slash),
Prometheus' ``/metrics`` and the health API under ``/api/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, re_path

from health import metrics, views

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^health/?$", views.health, name="health"),
    re_path(r"^health/detailed/?$", views.health_detailed, name="health-detailed"),
    re_path(r"^system/resources/?$", views.system_resources, name="system-resources"),
    re_path(r"^test/integration/?$", views.test_integration, name="test-integration"),
    # Matched before the containers app's own paths (health.urls is included first).
    re_path(
        r"^containers/instances/(?P<id>[^/]+)/health/?$",
        views.container_instance_health,
        name="container-instance-health",
    ),
    re_path(r"^metrics/?$", metrics.MetricsView.as_view(), name="metrics"),
    re_path(r"", include("health.api.urls")),
    re_path(r"", include("health.api.rule_urls")),
    re_path(r"", include("health.console_urls")),
]
