"""The billing API's shapes: usage rows, invoices and their lines (quantities and money as strings)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.models import Invoice, InvoiceLine, Usage


class UsageSerializer(serializers.ModelSerializer[Usage]):
    organization: Any = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Usage
        fields = [
            "hour",
            "organization",
            "deployment_name",
            "container_name",
            "docker_id",
            "measure",
            "quantity",
        ]


class InvoiceLineSerializer(serializers.ModelSerializer[InvoiceLine]):
    class Meta:
        model = InvoiceLine
        fields = ["kind", "measure", "deployment_name", "plan_name", "description", "quantity", "unit_price", "amount"]


class InvoiceSerializer(serializers.ModelSerializer[Invoice]):
    organization: Any = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    label: Any = serializers.CharField(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "label",
            "number",
            "organization",
            "month",
            "status",
            "currency",
            "total",
            "computed_at",
            "finalized_at",
            "finalized_by",
        ]


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines"]
