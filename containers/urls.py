"""The console's pages and the HTMX partials they poll (the API and the seed's paths live elsewhere)."""

from __future__ import annotations

from django.urls import path

from containers.views import dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("partials/deployments/", dashboard.deployments_partial, name="deployments-partial"),
    path("partials/events/", dashboard.events_partial, name="events-partial"),
]
