"""The console's pages and the HTMX partials they poll (the API and the seed's paths live elsewhere)."""

from __future__ import annotations

from django.urls import path

from containers.views import account, containers, dashboard, deployments, events, images

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("partials/deployments/", dashboard.deployments_partial, name="deployments-partial"),
    path("partials/events/", dashboard.events_partial, name="events-partial"),
    path("partials/host/", dashboard.host_partial, name="host-partial"),
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
