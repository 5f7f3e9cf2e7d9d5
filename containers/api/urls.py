"""The seed's container paths (exact, with or without a trailing slash) and the DRF API for deployments,
containers and events under ``/api/``.

Included after ``health.urls``, whose ``/containers/instances/{id}/health`` would otherwise look
like a ``DELETE /containers/{id}`` path here; images have their own router (``image_urls``).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path, re_path
from rest_framework.routers import SimpleRouter

from containers.api import seed, views

router = SimpleRouter()
router.register("deployments", views.DeploymentViewSet, basename="deployment")
router.register("containers", views.ContainerViewSet, basename="container")
router.register("events", views.EventViewSet, basename="event")

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", include(router.urls)),
    re_path(r"^containers/?$", seed.ContainersView.as_view(), name="seed-containers"),
    # Image references hold "/" and ":" (registry:5000/team/app:1.2), so the image is everything between.
    re_path(r"^containers/(?P<image>.+)/start/?$", seed.StartImageView.as_view(), name="seed-image-start"),
    re_path(r"^containers/(?P<image>.+)/stop/?$", seed.StopImageView.as_view(), name="seed-image-stop"),
    re_path(r"^containers/(?P<id>[^/]+)/?$", seed.ContainerView.as_view(), name="seed-container"),
]
