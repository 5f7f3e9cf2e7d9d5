"""The console's Billing area: month-to-date cost by deployment and by measure, a daily cost chart
and daily usage charts per measure (stacked by deployment), the budget, invoices and their printable
page, CSV downloads; for staff, every organization's month at a glance.

For staff, an organization's admins and its billing role (others get a 403); an invoice is looked
up in the caller's organization first, so another organization's is a 404. Every figure is read
through billing's own functions (``invoices.month_to_date``, the same lines an invoice gets).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import access, budgets, charts, credits, invoices, summary
from billing.models import Budget, Credit, Invoice, Measure, Usage
from containers.refusals import InvalidInput
from tenancy.access import Access
from tenancy.access import access as tenancy_access
from tenancy.errors import TenancyError
from tenancy.models import Organization
from tenancy.roles import MANAGE


def _breakdowns(lines: list[invoices.Line]) -> tuple[list[tuple[str, Decimal]], list[tuple[str, Decimal]]]:
    by_deployment: dict[str, Decimal] = defaultdict(Decimal)
    by_measure: dict[str, Decimal] = defaultdict(Decimal)
    labels = dict(Measure.choices)
    for line in lines:
        if line.kind == "usage":
            by_deployment[line.deployment_name or "images"] += line.amount
        by_measure[labels.get(line.measure, "credits") if line.kind != "credit" else "credits"] += line.amount
    return sorted(by_deployment.items(), key=lambda kv: -kv[1]), sorted(by_measure.items(), key=lambda kv: -kv[1])


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The Billing area of the organization the caller acts in."""
    current = access.require(request)
    if current.organization is None:
        raise Http404("no organization")
    return _overview(request, current, current.organization)


@require_GET
@login_required
def organization_overview(request: HttpRequest, organization: int) -> HttpResponse:
    """One organization's Billing area: any organization for staff, else only the caller's own
    (another organization's is a 404 whatever the role; a role without billing then gets its 403)."""
    current = tenancy_access(request)
    if not current.staff and organization != current.organization_id:
        raise Http404("no such organization")
    access.require(request)
    found = Organization.objects.filter(pk=organization).first()
    if found is None:
        raise Http404("no such organization")
    return _overview(request, current, found)


def _overview(request: HttpRequest, current: Access, organization: Organization) -> HttpResponse:
    organization_id = organization.pk
    now = timezone.now()
    mtd = invoices.month_to_date(organization_id, now)
    lines: list[invoices.Line] = mtd["lines"]  # type: ignore[assignment]
    by_deployment, by_measure = _breakdowns(lines)
    month = invoices.month_of(now)
    days = charts.month_days(month, now)
    month_start = invoices.bounds(month)[0]
    # What was used, whatever it cost: one aggregate over the month's hourly rows.
    used = (
        access.scoped(Usage.objects.filter(organization_id=organization_id, hour__gte=month_start), current)
        .values_list("measure")
        .annotate(quantity=Sum("quantity"))
        .order_by("measure")
    )
    labels = dict(Measure.choices)
    usage_totals = [(labels.get(measure, measure), quantity) for measure, quantity in used]
    listed = access.scoped(Invoice.objects.filter(organization_id=organization_id), current).order_by("-month")[:24]
    own = organization_id == current.organization_id
    context = {
        "organization": organization,
        "mtd": mtd,
        "by_deployment": by_deployment,
        "by_measure": by_measure,
        "usage_totals": usage_totals,
        "chart": charts.chart(days, charts.daily_costs(organization_id, month), unit=str(mtd["currency"])),
        "usage_charts": charts.usage_charts(organization_id, month, days),
        "invoices": listed,
        "budget": Budget.objects.filter(organization_id=organization_id).first(),
        # The budget form sets the budget of the organization acted in (staff: switch to it first).
        "may_manage": current.can(MANAGE) and own,
        "staff": current.staff,
        "credits": access.scoped(Credit.objects.filter(organization_id=organization_id), current)
        .select_related("invoice", "invoice__organization")
        .order_by("-created_at")[:20],
        "usage_csv": f"/api/usage/?format=csv&from={month_start:%Y-%m-%d}"
        + ("" if own else f"&organization={organization.slug}"),
        "invoices_csv": "/api/invoices/?format=csv" + ("" if own else f"&organization={organization.slug}"),
    }
    return render(request, "billing/overview.html", context)


@require_GET
@login_required
def organizations(request: HttpRequest) -> HttpResponse:
    """Staff: every organization's month-to-date cost and invoice status, each linking to its Billing."""
    current = access.require(request)
    if not current.staff:
        raise PermissionDenied("Every organization's billing is for staff.")
    listed = summary.rows()
    month = invoices.month_of(timezone.now())
    context = {"rows": listed, "totals": summary.totals(listed), "month": month}
    return render(request, "billing/organizations.html", context)


@require_POST
@login_required
def budget(request: HttpRequest) -> HttpResponse:
    """Admins (and staff) set the organization's budget; the billing role reads it."""
    current = access.require(request)
    if not current.can(MANAGE) or current.organization_id is None:
        raise PermissionDenied("Only the organization's admins set its budget.")
    try:
        amount = Decimal(request.POST.get("amount", "").strip())
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        return _budget_refused(request, "amount", "the budget must be a number, e.g. 250.00")
    try:
        pct = int(request.POST.get("alert_pct", "80"))
    except ValueError:
        return _budget_refused(request, "alert_pct", "the alert share must be a whole percentage")
    try:
        budgets.set_budget(current.organization_id, amount, pct)
    except TenancyError as refused:
        return _budget_refused(request, refused.field or "amount", refused.message)
    return redirect("billing-overview")


def _budget_refused(request: HttpRequest, field: str, message: str) -> HttpResponse:
    return render(request, "billing/budget_refused.html", {"field": field, "message": message}, status=400)


@require_POST
@login_required
def credit_create(request: HttpRequest, organization: int) -> HttpResponse:
    """Staff grant a credit to the organization from its Billing page (``billing.credits.grant``)."""
    current = tenancy_access(request)
    if not current.staff and organization != current.organization_id:
        raise Http404("no such organization")
    if not current.staff:
        raise PermissionDenied("Only staff grant credits.")
    found = Organization.objects.filter(pk=organization).first()
    if found is None:
        raise Http404("no such organization")
    post = request.POST
    try:
        credits.grant(
            found, post.get("amount", ""), post.get("reason", ""), currency=post.get("currency"), actor=current.username
        )
    except InvalidInput as refused:
        context = {"organization": found, "fields": sorted(refused.fields.items())}
        return render(request, "billing/credit_refused.html", context, status=400)
    return redirect("billing-organization", organization=found.pk)


@require_GET
@login_required
def invoice_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable invoice: looked up in the caller's organization first (404), then the role (403)."""
    current = tenancy_access(request)
    invoice = access.lookup(Invoice.objects.select_related("organization"), current).filter(pk=pk).first()
    if invoice is None:
        raise Http404("no such invoice")
    access.require(request)
    if not invoice.is_final:
        invoice = invoices.refresh(invoice.organization_id, invoice.month)
    context = {"invoice": invoice, "lines": list(invoice.lines.all()), "csv": f"/api/invoices/{invoice.pk}/?format=csv"}
    return render(request, "billing/invoice.html", context)
