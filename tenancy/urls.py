"""The organization's console pages: switcher, Members, Tokens, Quotas."""

from __future__ import annotations

from django.urls import path

from tenancy import views

urlpatterns = [
    path("organization/switch/", views.switch_organization, name="tenancy-switch"),
    path("organization/members/", views.member_list, name="tenancy-members"),
    path("organization/members/add/", views.member_add, name="tenancy-member-add"),
    path("organization/members/<int:pk>/role/", views.member_role, name="tenancy-member-role"),
    path("organization/members/<int:pk>/remove/", views.member_remove, name="tenancy-member-remove"),
    path("organization/tokens/", views.token_list, name="tenancy-tokens"),
    path("organization/tokens/new/", views.token_create, name="tenancy-token-create"),
    path("organization/tokens/<int:pk>/revoke/", views.token_revoke, name="tenancy-token-revoke"),
    path("organization/quotas/", views.quota_page, name="tenancy-quotas"),
    path("organization/quotas/edit/", views.quota_edit, name="tenancy-quota-edit"),
]
