"""The health app's API paths, under ``/api/`` (included by ``health.urls``, before the containers router)."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from health.api import views

urlpatterns: list[URLPattern] = [
    re_path(
        r"^api/containers/(?P<id>[^/]+)/metrics/?$", views.ContainerMetricsView.as_view(), name="container-metrics"
    ),
]
