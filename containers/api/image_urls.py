"""Image routes: ``/api/images/`` (a SimpleRouter, so no second API root) and the seed's ``GET /images``."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from containers.api.images import ImageViewSet, seed_images, seed_images_slash

router = SimpleRouter()
router.register("api/images", ImageViewSet, basename="image")

urlpatterns = [
    # The prototype's clients call it without a trailing slash; accept both.
    path("images", seed_images, name="seed-images"),
    path("images/", seed_images_slash),
    *router.urls,
]
