"""Serializers of the tenancy API. None of them accepts an ``organization``: it always comes from
the caller's access (a body naming another organization is ignored, never obeyed)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenancy import quotas
from tenancy.models import ApiToken, Membership, Organization
from tenancy.roles import Role


class OrganizationSerializer(serializers.ModelSerializer):
    quotas = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "created_at", "quotas"]
        read_only_fields = fields

    def get_quotas(self, organization: Organization) -> dict[str, Any]:
        return {
            name: (str(v) if v is not None and name == "cpu" else v) for name, v in quotas.limits(organization).items()
        }


class QuotaSerializer(serializers.Serializer):
    """Every quota optional; null removes the limit."""

    cpu = serializers.DecimalField(max_digits=8, decimal_places=3, min_value=0, allow_null=True, required=False)
    memory = serializers.IntegerField(min_value=0, allow_null=True, required=False, help_text="bytes")
    containers = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    deployments = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    image_disk = serializers.IntegerField(min_value=0, allow_null=True, required=False, help_text="bytes")


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "organization", "created_at"]
        read_only_fields = ["id", "username", "organization", "created_at"]


class AddMemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class TokenSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    prefix = serializers.CharField(source="token_key", read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "username",
            "organization",
            "role",
            "metrics",
            "created",
            "expiry",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class CreateTokenSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices)
    expiry = serializers.DateTimeField(required=False, allow_null=True)
    metrics = serializers.BooleanField(required=False, default=False)


class NewTokenSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once: only its digest is stored")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]
        read_only_fields = fields
