"""``/api/probes/``, ``/api/alert-rules/``, ``/api/alert-deliveries/`` (read-only) and ``/api/autoscalers/``.

Changes go through :mod:`health.rules` (one function per action, each an event). Each list is filterable
by deployment name (``?deployment=web``); deliveries also by ``rule`` and ``status``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.db.models import Model, QuerySet
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from containers.models import actor_name
from containers.refusals import Refused
from health import rules
from health.api import rule_serializers as s
from health.filtersets import AlertDeliveryFilter, AlertRuleFilter, AutoscalerFilter, ProbeFilter
from health.models import AlertDelivery, AlertRule, Autoscaler, Probe
from tenancy.access import access
from tenancy.scope import scope


class Scoped:
    """Rows of the caller's organization only (tenancy.scope); the serializer resolves relations
    (a deployment by name) among the caller's rows too."""

    queryset: Any
    request: Any

    def get_queryset(self) -> QuerySet[Any]:
        return scope(self.queryset.all(), access(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "access": access(self.request)}  # type: ignore[misc]


class RuleViewSet(Scoped, viewsets.ModelViewSet):
    """Creates, changes and deletes through :mod:`health.rules`, so each change is an event of its user.

    An alert rule is created in the caller's organization (a body can't name another); probes and
    autoscalers belong to their deployment's.
    """

    def perform_create(self, serializer: BaseSerializer) -> None:
        model = serializer.Meta.model  # type: ignore[attr-defined]
        values = dict(serializer.validated_data)
        if getattr(model, "tenancy_path", "") == "organization":
            values["organization"] = access(self.request).organization
        serializer.instance = rules.create_rule(model, actor=actor_name(self.request.user), **values)

    def perform_update(self, serializer: BaseSerializer) -> None:
        assert serializer.instance is not None  # an update always has its row
        rules.update_rule(serializer.instance, actor=actor_name(self.request.user), **serializer.validated_data)

    def perform_destroy(self, instance: Model) -> None:
        rules.delete_rule(instance, actor=actor_name(self.request.user))


class ProbeViewSet(RuleViewSet):
    queryset = Probe.objects.select_related("deployment").order_by("id")
    serializer_class = s.ProbeSerializer
    filterset_class = ProbeFilter


class AlertRuleViewSet(RuleViewSet):
    queryset = AlertRule.objects.select_related("deployment").order_by("id")
    serializer_class = s.AlertRuleSerializer
    filterset_class = AlertRuleFilter


class AlertDeliveryViewSet(Scoped, viewsets.ReadOnlyModelViewSet):
    queryset = AlertDelivery.objects.select_related("event").order_by("-at", "-id")
    serializer_class = s.AlertDeliverySerializer
    filterset_class = AlertDeliveryFilter


class AutoscalerViewSet(RuleViewSet):
    """One autoscaler a deployment: a second one (created, or moved onto it) is a 409 naming ``deployment``."""

    queryset = Autoscaler.objects.select_related("deployment").order_by("id")
    serializer_class = s.AutoscalerSerializer
    filterset_class = AutoscalerFilter

    def perform_create(self, serializer: BaseSerializer) -> None:
        self._refuse_a_second(serializer)
        try:
            super().perform_create(serializer)
        except IntegrityError:  # the check and the save are not atomic: two concurrent creates meet the index
            self._refuse(serializer)

    def perform_update(self, serializer: BaseSerializer) -> None:
        self._refuse_a_second(serializer)
        try:
            super().perform_update(serializer)
        except IntegrityError:
            self._refuse(serializer)

    def _refuse_a_second(self, serializer: BaseSerializer) -> None:
        deployment = serializer.validated_data.get("deployment")
        others = Autoscaler.objects.filter(deployment=deployment)
        if serializer.instance is not None:
            others = others.exclude(pk=serializer.instance.pk)
        if deployment is not None and others.exists():
            self._refuse(serializer)

    def _refuse(self, serializer: BaseSerializer) -> None:
        deployment = serializer.validated_data.get("deployment")
        raise Refused(f"{deployment} already has an autoscaler: change that one", field="deployment")
