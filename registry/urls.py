"""The registry's URLs, its one URL module: the seed's ``/registry/endpoints`` paths (with or without a
trailing slash), ``/api/endpoints/``, ``/api/services/`` (discovery), and the console's endpoint pages and
Services page with its polled partial."""

from __future__ import annotations

from typing import Any

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from containers.views.resource_pages import urls
from registry import console
from registry.api import services, views
from registry.endpoint_pages import ENDPOINTS

router = SimpleRouter()
router.register("endpoints", views.ServiceEndpointViewSet, basename="endpoint")

urlpatterns: list[Any] = [
    re_path(r"^registry/endpoints/?$", views.endpoint_list, name="registry-endpoints"),
    re_path(r"^registry/endpoints/(?P<pk>[^/]+)/?$", views.endpoint_detail, name="registry-endpoint"),
    re_path(r"^registry/endpoints/(?P<pk>[^/]+)/status/?$", views.endpoint_status, name="registry-endpoint-status"),
    path("api/services/", services.service_list, name="service-list"),
    path("api/services/<slug:name>/", services.service_detail, name="service-detail"),
    path("api/services/<slug:name>/traffic/", services.service_traffic, name="service-traffic"),
    path("api/", include(router.urls)),
    *urls(ENDPOINTS),
    path("console/services/", console.service_list, name="console-services"),
    path("console/services/rows/", console.service_rows, name="console-services-rows"),
]
