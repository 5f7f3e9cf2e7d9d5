"""The one FilterSet for service endpoints, shared by the seed's list and the API viewset."""

from __future__ import annotations

import django_filters

from registry.models import ServiceEndpoint


class ServiceEndpointFilterSet(django_filters.FilterSet):
    deployment = django_filters.CharFilter(field_name="container__deployment__name")
    managed = django_filters.BooleanFilter(field_name="container", lookup_expr="isnull", exclude=True)

    class Meta:
        model = ServiceEndpoint
        fields = ["service", "status", "protocol", "host", "port"]
