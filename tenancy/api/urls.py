"""``/api/organizations/``, ``/api/members/`` and ``/api/tokens/``."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tenancy.api import views

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("members", views.MembershipViewSet, basename="membership")
router.register("tokens", views.TokenViewSet, basename="apitoken")

urlpatterns = [path("api/", include(router.urls))]
