"""Django admin for organizations, memberships and tokens; the admin site is for superusers only.

Organizations span customers, so only staff (superusers) may open the admin at all: an
``is_staff`` flag alone no longer lets anyone in. Token keys are never shown (only their
first characters are stored), and tokens can't be created here: that is the console's job,
which shows the key once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tenancy.models import ApiToken, Membership, Organization
from tenancy.organizations import delete_organization


def _superusers_only(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superusers_only  # type: ignore[method-assign]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "quota_cpu", "quota_memory_bytes", "quota_containers", "quota_deployments")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def delete_model(self, request: HttpRequest, obj: Organization) -> None:
        # Through the action: the floors above remove the organization's containers and network first.
        delete_organization(obj, actor=request.user.get_username())

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for organization in queryset:
            delete_organization(organization, actor=request.user.get_username())


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "organization__name")
    autocomplete_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "token_key",
        "user",
        "organization",
        "role",
        "created",
        "expiry",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("role", "organization")
    search_fields = ("name", "token_key", "user__username")
    readonly_fields = ("digest", "token_key", "user", "organization", "role", "created", "last_used_at", "metrics")
    fields = (
        "name",
        "token_key",
        "user",
        "organization",
        "role",
        "metrics",
        "created",
        "expiry",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
