"""The billing API's shapes: usage rows, invoices and their lines (quantities and money as strings)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.models import Credit, Invoice, InvoiceLine, Usage


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


class CreditSerializer(serializers.ModelSerializer[Credit]):
    organization: Any = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    invoice: Any = serializers.PrimaryKeyRelatedField(read_only=True, help_text="the final invoice that carried it")

    class Meta:
        model = Credit
        fields = ["id", "organization", "amount", "currency", "reason", "created_at", "created_by", "invoice"]


class CreditRequestSerializer(serializers.Serializer[Any]):
    """What staff send to grant a credit (validated by ``billing.credits.grant``, every wrong field named)."""

    organization = serializers.CharField(help_text="the organization's slug")
    amount = serializers.CharField(help_text="a positive amount in the currency's minor unit, as a string: 25.00")
    currency = serializers.CharField(required=False, help_text="optional; must be the currency of its plan in force")
    reason = serializers.CharField(max_length=200, help_text="printed on the invoice's credit line")
