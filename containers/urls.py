"""The console's pages and the HTMX partials they poll (the API and the seed's paths live elsewhere)."""

from __future__ import annotations

from django.urls import path

from containers import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("partials/deployments/", views.deployments_partial, name="deployments-partial"),
    path("partials/events/", views.events_partial, name="events-partial"),
]
