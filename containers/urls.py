"""Every path of the containers app, in the order they must match:

1. images: the seed's ``GET /images`` and ``/api/images/`` (a SimpleRouter, so no second API root);
2. the DRF API for deployments, containers and events under ``/api/``, and the seed's container paths
   (exact, with or without a trailing slash). ``health.urls`` is included before this module, since its
   ``/containers/instances/{id}/health`` would otherwise look like a ``DELETE /containers/{id}`` here;
3. the console's pages and the HTMX partials they poll.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path, re_path
from rest_framework.routers import SimpleRouter

from containers.api import seed, views
from containers.api.images import ImageViewSet, seed_images, seed_images_slash
from containers.views import account, containers, dashboard, deployments, engine, events, images

image_router = SimpleRouter()
image_router.register("api/images", ImageViewSet, basename="image")

router = SimpleRouter()
router.register("deployments", views.DeploymentViewSet, basename="deployment")
router.register("containers", views.ContainerViewSet, basename="container")
router.register("events", views.EventViewSet, basename="event")

urlpatterns: list[URLPattern | URLResolver] = [
    # The prototype's clients call it without a trailing slash; accept both.
    path("images", seed_images, name="seed-images"),
    path("images/", seed_images_slash),
    *image_router.urls,
    path("api/", include(router.urls)),
    re_path(r"^containers/?$", seed.ContainersView.as_view(), name="seed-containers"),
    # Image references hold "/" and ":" (registry:5000/team/app:1.2), so the image is everything between.
    re_path(r"^containers/(?P<image>.+)/start/?$", seed.StartImageView.as_view(), name="seed-image-start"),
    re_path(r"^containers/(?P<image>.+)/stop/?$", seed.StopImageView.as_view(), name="seed-image-stop"),
    re_path(r"^containers/(?P<id>[^/]+)/?$", seed.ContainerView.as_view(), name="seed-container"),
    # The console.
    path("", dashboard.dashboard, name="dashboard"),
    path("partials/engine/", engine.engine_banner, name="engine-banner"),
    path("partials/deployments/", dashboard.deployments_partial, name="deployments-partial"),
    path("partials/events/", dashboard.events_partial, name="events-partial"),
    # Deployments: the list, create / edit with the plan preview, the detail page and its live partials.
    path("deployments/", deployments.deployment_list, name="console-deployments"),
    path("deployments/rows/", deployments.deployment_rows, name="console-deployment-rows"),
    path("deployments/new/", deployments.deployment_create, name="console-deployment-create"),
    path("deployments/new/preview/", deployments.deployment_create_preview, name="console-deployment-create-preview"),
    path("deployments/<int:pk>/", deployments.deployment_detail, name="console-deployment"),
    path("deployments/<int:pk>/status/", deployments.deployment_status, name="console-deployment-status"),
    path("deployments/<int:pk>/timeline/", deployments.deployment_timeline, name="console-deployment-timeline"),
    path("deployments/<int:pk>/edit/", deployments.deployment_edit, name="console-deployment-edit"),
    path(
        "deployments/<int:pk>/edit/preview/",
        deployments.deployment_edit_preview,
        name="console-deployment-edit-preview",
    ),
    path("deployments/<int:pk>/scale/", deployments.deployment_scale, name="console-deployment-scale"),
    path(
        "deployments/<int:pk>/scale/preview/",
        deployments.deployment_scale_preview,
        name="console-deployment-scale-preview",
    ),
    path("deployments/<int:pk>/stop/", deployments.deployment_stop, name="console-deployment-stop"),
    path("deployments/<int:pk>/delete/", deployments.deployment_delete, name="console-deployment-delete"),
    path("deployments/<int:pk>/rollback/", deployments.deployment_rollback, name="console-deployment-rollback"),
    path("deployments/<int:pk>/pause/", deployments.deployment_pause, name="console-deployment-pause"),
    path("deployments/<int:pk>/resume/", deployments.deployment_resume, name="console-deployment-resume"),
    # Images (the seed owns GET /images, so the console's pages live under /console/).
    path("console/images/", images.image_list, name="console-images"),
    path("console/images/partials/list/", images.images_partial, name="console-images-partial"),
    path("console/images/upload/", images.image_upload, name="console-image-upload"),
    path("console/images/pull/", images.image_pull, name="console-image-pull"),
    path("console/images/<int:pk>/delete/", images.image_delete, name="console-image-delete"),
    # Named like the API's /api/containers/<pk>/ on purpose: this console route is included last, so
    # {% url 'container-detail' %} gives the page; nothing in the JSON API reverses that name.
    path("console/containers/<int:pk>/", containers.container_detail, name="container-detail"),
    path("console/containers/<int:pk>/log/", containers.container_log, name="console-container-log"),
    path("console/containers/<int:pk>/restart/", containers.container_restart, name="console-container-restart"),
    path("console/containers/<int:pk>/remove/", containers.container_remove, name="console-container-remove"),
    path("console/events/", events.event_list, name="console-events"),
    path("console/events/export.csv", events.event_export, name="console-events-export"),
    path("account/", account.account, name="account"),
    path("account/token/", account.token_create, name="account-token-create"),
    path("account/token/revoke/", account.token_revoke, name="account-token-revoke"),
]
