"""Billing's paths: the API under /api/ and the console's Billing area."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from billing import views
from billing.api import views as api

urlpatterns: list[URLPattern] = [
    re_path(r"^api/usage/?$", api.UsageView.as_view(), name="api-usage"),
    re_path(r"^api/invoices/?$", api.InvoiceListView.as_view(), name="api-invoices"),
    re_path(r"^api/invoices/(?P<pk>[^/]+)/?$", api.InvoiceDetailView.as_view(), name="api-invoice"),
    re_path(r"^api/invoices/(?P<pk>[^/]+)/finalize/?$", api.InvoiceFinalizeView.as_view(), name="api-invoice-finalize"),
    # Named billing-*: staff, admins and the billing role read it (the URL walk's rule for billing's paths).
    re_path(r"^api/credits/?$", api.CreditListView.as_view(), name="billing-credits"),
    path("console/billing/", views.overview, name="billing-overview"),
    path("console/billing/budget/", views.budget, name="billing-budget"),
    path("console/billing/organizations/", views.organizations, name="billing-organizations"),
    path(
        "console/billing/organizations/<int:organization>/",
        views.organization_overview,
        name="billing-organization",
    ),
    path(
        "console/billing/organizations/<int:organization>/credits/",
        views.credit_create,
        name="billing-organization-credit-create",
    ),
    path("console/billing/invoices/<int:pk>/", views.invoice_page, name="billing-invoice"),
]
