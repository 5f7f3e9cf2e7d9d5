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
    path("console/billing/", views.overview, name="billing-overview"),
    path("console/billing/budget/", views.budget, name="billing-budget"),
    path("console/billing/organizations/", views.organizations, name="billing-organizations"),
    path(
        "console/billing/organizations/<int:organization>/",
        views.organization_overview,
        name="billing-organization",
    ),
    path("console/billing/invoices/<int:pk>/", views.invoice_page, name="billing-invoice"),
]
