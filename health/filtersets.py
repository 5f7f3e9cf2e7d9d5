"""The health app's FilterSets, used by its API lists: each filterable by deployment name (``?deployment=web``)."""

from __future__ import annotations

import django_filters

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
