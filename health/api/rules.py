"""``/api/probes/``, ``/api/alert-rules/``, ``/api/alert-deliveries/`` (read-only) and ``/api/autoscalers/``.

Each list is filterable by deployment name (``?deployment=web``); deliveries also by ``rule`` and ``status``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from health.api import rule_serializers as s
from health.filtersets import AlertDeliveryFilter, AlertRuleFilter, AutoscalerFilter, ProbeFilter
from health.models import AlertDelivery, AlertRule, Autoscaler, Probe
from tenancy.access import access
from tenancy.scope import scope


class Scoped:
    """Rows of the caller's organization only; new rows are created in it (a body can't name another)."""

    queryset: QuerySet[Any]
    request: Any

    def get_queryset(self) -> QuerySet[Any]:
        return scope(self.queryset.all(), access(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "access": access(self.request)}  # type: ignore[misc]


class ProbeViewSet(Scoped, viewsets.ModelViewSet):
    queryset = Probe.objects.select_related("deployment").order_by("id")
    serializer_class = s.ProbeSerializer
    filterset_class = ProbeFilter


class AlertRuleViewSet(Scoped, viewsets.ModelViewSet):
    queryset = AlertRule.objects.select_related("deployment").order_by("id")
    serializer_class = s.AlertRuleSerializer
    filterset_class = AlertRuleFilter

    def perform_create(self, serializer: Any) -> None:
        serializer.save(organization=access(self.request).organization)


class AlertDeliveryViewSet(Scoped, viewsets.ReadOnlyModelViewSet):
    queryset = AlertDelivery.objects.select_related("event").order_by("-at", "-id")
    serializer_class = s.AlertDeliverySerializer
    filterset_class = AlertDeliveryFilter


class AutoscalerViewSet(Scoped, viewsets.ModelViewSet):
    queryset = Autoscaler.objects.select_related("deployment").order_by("id")
    serializer_class = s.AutoscalerSerializer
    filterset_class = AutoscalerFilter
