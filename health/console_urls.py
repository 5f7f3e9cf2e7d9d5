"""The health console pages: the fleet page, its polled partial, and one container's charts."""

from __future__ import annotations

from django.urls import URLPattern, path

from health import console

urlpatterns: list[URLPattern] = [
    path("console/health/", console.fleet, name="health-fleet"),
    path("console/health/rows/", console.fleet_rows, name="health-fleet-rows"),
    path("console/health/containers/<int:pk>/", console.container_charts, name="health-container"),
]
