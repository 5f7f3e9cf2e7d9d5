"""``/api/probes/``, ``/api/alert-rules/``, ``/api/alert-deliveries/`` (read-only) and ``/api/autoscalers/``.

Each list is filterable by deployment name (``?deployment=web``); deliveries also by ``rule`` and ``status``.
"""

from __future__ import annotations

from rest_framework import viewsets

from health.api import rule_serializers as s
from health.filtersets import AlertDeliveryFilter, AlertRuleFilter, AutoscalerFilter, ProbeFilter
from health.models import AlertDelivery, AlertRule, Autoscaler, Probe


class ProbeViewSet(viewsets.ModelViewSet):
    queryset = Probe.objects.select_related("deployment").order_by("id")
    serializer_class = s.ProbeSerializer
    filterset_class = ProbeFilter


class AlertRuleViewSet(viewsets.ModelViewSet):
    queryset = AlertRule.objects.select_related("deployment").order_by("id")
    serializer_class = s.AlertRuleSerializer
    filterset_class = AlertRuleFilter


class AlertDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AlertDelivery.objects.select_related("event").order_by("-at", "-id")
    serializer_class = s.AlertDeliverySerializer
    filterset_class = AlertDeliveryFilter


class AutoscalerViewSet(viewsets.ModelViewSet):
    queryset = Autoscaler.objects.select_related("deployment").order_by("id")
    serializer_class = s.AutoscalerSerializer
    filterset_class = AutoscalerFilter
