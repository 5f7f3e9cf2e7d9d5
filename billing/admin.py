"""Django admin for billing: plans and their prices, plan periods, usage, invoices (final ones read-only), credits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billing import credits, invoices, plans
from billing.models import MEASURES, Budget, Credit, Invoice, InvoiceLine, MeteredHour, Plan, PlanPeriod, Usage
from containers.refusals import InvalidInput
from tenancy.errors import TenancyError


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Prices are Decimals per unit, never negative (the fields' validators); the currency is required."""

    list_display = ("name", "currency", "price_cpu_reserved", "price_cpu_used", "price_memory_used", "created_at")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "currency")}),
        ("Prices per unit", {"fields": tuple(f"price_{m}" for m in MEASURES)}),
        ("Included free each month", {"fields": tuple(f"included_{m}" for m in MEASURES)}),
        ("Quotas organizations on the plan get (empty: none set)", {"fields": Plan.QUOTA_FIELDS}),
    )


class PlanPeriodForm(forms.ModelForm):
    class Meta:
        model = PlanPeriod
        fields = ("organization", "plan", "starts_at")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization, plan, starts_at = cleaned.get("organization"), cleaned.get("plan"), cleaned.get("starts_at")
        if organization and plan and starts_at:
            try:
                plans.check(organization.pk, plan, starts_at)
            except TenancyError as refused:
                self.add_error(refused.field if refused.field in self.fields else None, refused.message)
        return cleaned


@admin.register(PlanPeriod)
class PlanPeriodAdmin(admin.ModelAdmin):
    """A new period ends the one in force at its start (billing.plans.assign); periods are not edited."""

    form = PlanPeriodForm
    list_display = ("organization", "plan", "starts_at", "ends_at")
    list_filter = ("plan",)
    list_select_related = ("organization", "plan")

    def has_change_permission(self, request: HttpRequest, obj: PlanPeriod | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: PlanPeriod | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PlanPeriod, form: Any, change: bool) -> None:
        saved = plans.assign(obj.organization_id, obj.plan, obj.starts_at)
        obj.pk = saved.pk


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Usage)
class UsageAdmin(ReadOnly):
    """Read-only: the metering task writes these rows."""

    list_display = ("hour", "organization", "deployment_name", "container_name", "measure", "quantity")
    list_filter = ("measure", "organization")
    list_select_related = ("organization",)
    search_fields = ("deployment_name", "container_name", "docker_id")
    date_hierarchy = "hour"


@admin.register(MeteredHour)
class MeteredHourAdmin(ReadOnly):
    list_display = ("hour", "metered_at", "containers", "rows")


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ("kind", "description", "quantity", "unit_price", "amount")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly):
    """Invoices are computed, never typed: drafts are recomputed, final ones never change."""

    list_display = ("__str__", "organization", "month", "status", "number", "currency", "total", "finalized_at")
    list_filter = ("status", "month")
    list_select_related = ("organization",)
    inlines = [InvoiceLineInline]
    actions = ["finalize"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff)

    @admin.action(description="Finalize the selected invoices (closed months only)")
    def finalize(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        for invoice in queryset.filter(status=Invoice.Status.DRAFT):
            try:
                invoices.finalize(invoice.organization_id, invoice.month, actor=request.user.get_username())
            except TenancyError as refused:
                self.message_user(request, f"{invoice}: {refused.message}", messages.ERROR)


class CreditForm(forms.ModelForm):
    """Validated by ``billing.credits.check``, as the API and the console are; the currency is the plan's."""

    class Meta:
        model = Credit
        fields = ("organization", "amount", "currency", "reason")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].required = False
        self.fields["currency"].help_text = "empty: the currency of the organization's plan in force"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            checked = credits.check(
                cleaned.get("organization"),
                cleaned.get("amount"),
                cleaned.get("reason"),
                currency=cleaned.get("currency"),
            )
        except InvalidInput as refused:
            for field, problems in refused.fields.items():
                if field not in self.errors:  # a field Django refused already says why
                    self.add_error(field if field in self.fields else None, problems)
            return cleaned
        cleaned["currency"], cleaned["reason"] = checked.currency, checked.reason
        return cleaned


@admin.register(Credit)
class CreditAdmin(admin.ModelAdmin):
    """A correction: a credit line on the organization's next invoice. Read-only once an invoice carries it."""

    form = CreditForm
    list_display = ("organization", "amount", "currency", "reason", "created_at", "invoice")
    list_select_related = ("organization", "invoice")

    def has_change_permission(self, request: HttpRequest, obj: Credit | None = None) -> bool:
        return (obj is None or obj.invoice_id is None) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Credit | None = None) -> bool:
        return (obj is None or obj.invoice_id is None) and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Credit, form: Any, change: bool) -> None:
        obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ("organization", "amount", "alert_pct", "alerted_month")
    list_select_related = ("organization",)
