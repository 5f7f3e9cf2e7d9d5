"""Routes of the probe, alert and autoscaler API under ``/api/`` (a SimpleRouter: no API root of its own)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from health.api import rules

router = SimpleRouter(trailing_slash="/?")
router.register(r"api/probes", rules.ProbeViewSet, basename="probe")
router.register(r"api/alert-rules", rules.AlertRuleViewSet, basename="alert-rule")
router.register(r"api/alert-deliveries", rules.AlertDeliveryViewSet, basename="alert-delivery")
router.register(r"api/autoscalers", rules.AutoscalerViewSet, basename="autoscaler")

urlpatterns = router.urls
