"""The list filters for deployments, containers and events, shared by the DRF API and the console lists.

A bad filter value (an unknown deployment id, a date that is not a date) is a 400 naming the
parameter, never a silently unfiltered list.
"""

from __future__ import annotations

import django_filters
from django import forms

from containers.models import Container, Deployment, Event

# Row ids are 64-bit: a longer number is no id (and SQLite would overflow on it, a 500).
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 to 2**63 - 1; anything else is a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class DeploymentFilterSet(django_filters.FilterSet):
    """``?name=web``, ``?name__icontains=we``, ``?state=running``, ``?image=team/web:1.2``."""

    state = django_filters.ChoiceFilter(choices=Deployment.State.choices)
    image = django_filters.CharFilter(field_name="image__reference", label="Image reference (exact)")

    class Meta:
        model = Deployment
        fields = {"name": ["exact", "icontains"]}


class ContainerFilterSet(django_filters.FilterSet):
    """``?deployment=<id>``, ``?status=running``."""

    deployment = django_filters.ModelChoiceFilter(queryset=Deployment.objects.all())
    status = django_filters.ChoiceFilter(choices=Container.Status.choices)

    class Meta:
        model = Container
        fields = ["deployment", "status"]


class EventFilterSet(django_filters.FilterSet):
    """``?kind=deployment.scaled``, ``?kind__startswith=container.``, ``?deployment=<id>``, ``?actor=alice``,
    ``?created_after=<ISO 8601>``, ``?created_before=<ISO 8601>`` (both inclusive)."""

    # A number, not a choice among live deployments: events outlive the deployment they name.
    deployment = IdFilter(field_name="deployment_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Event
        fields = {"kind": ["exact", "startswith"], "actor": ["exact"]}
