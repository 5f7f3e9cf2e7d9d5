"""``/api/probes/``, ``/api/alert-rules/``, ``/api/alert-deliveries/`` (read-only) and ``/api/autoscalers/``.

Each list is filterable by deployment name (``?deployment=web``); deliveries also by ``rule`` and ``status``.
"""

from __future__ import annotations

import django_filters
from rest_framework import viewsets

from health.api import rule_serializers as s
from health.models import AlertDelivery, AlertRule, Autoscaler, Probe


class ByDeployment(django_filters.FilterSet):
    deployment = django_filters.CharFilter(field_name="deployment__name")


class ProbeFilter(ByDeployment):
    class Meta:
        model = Probe
        fields = ["deployment", "kind", "type", "enabled"]


class AlertRuleFilter(ByDeployment):
    class Meta:
        model = AlertRule
        fields = ["deployment", "enabled"]


class AlertDeliveryFilter(ByDeployment):
    class Meta:
        model = AlertDelivery
        fields = ["deployment", "rule", "status", "channel"]


class AutoscalerFilter(ByDeployment):
    class Meta:
        model = Autoscaler
        fields = ["deployment", "enabled"]


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
