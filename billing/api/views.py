"""``/api/usage/``, ``/api/invoices/``, ``/api/invoices/{id}/`` (each also as CSV: ``?format=csv`` or
``Accept: text/csv``, streamed), ``POST /api/invoices/{id}/finalize/`` (staff) and ``/api/credits/``
(read like invoices; staff grant one with a POST).

Every view asks :mod:`billing.access` first: staff, admins and the billing role pass, others get
a 403; then it reads through the billing scope, so another organization's invoice is a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from billing import access, credits, exports, invoices, ranges
from billing.api.serializers import (
    CreditRequestSerializer,
    CreditSerializer,
    InvoiceDetailSerializer,
    InvoiceSerializer,
    UsageSerializer,
)
from billing.models import MEASURES, Credit, Invoice, InvoiceLine, Usage
from tenancy.access import Access
from tenancy.access import access as tenancy_access
from tenancy.errors import Forbidden, Invalid
from tenancy.permissions import SELF_CHECKED

RANGE = [
    OpenApiParameter("from", OpenApiTypes.STR, description="from (inclusive): a date, a month (2026-11) or an instant"),
    OpenApiParameter("to", OpenApiTypes.STR, description="to (exclusive); at most BILLING_EXPORT_MAX_DAYS after from"),
    OpenApiParameter("organization", OpenApiTypes.STR, description="an organization's slug (staff see every one)"),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: the whole range, streamed"),
]


class CSVRenderer(BaseRenderer):
    """Declares the CSV form (the views stream it themselves); errors are still answered as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)


class BillingView(GenericAPIView[Any]):
    renderer_classes = [JSONRenderer, CSVRenderer]
    filter_backends: list[Any] = []  # the range and filters are parsed (and validated) by get_queryset
    billing: Access
    # Detail paths look their invoice up first (another organization's is a 404 for anyone), then
    # check the role (a viewer of the owning organization gets its 403).
    lookup_first = False
    # The roles are checked here (billing.access: staff, admins, the billing role), not by
    # tenancy's default permission (which wants ``operate`` for a write such as finalize).
    tenancy_capability = SELF_CHECKED

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.billing = tenancy_access(request) if self.lookup_first else access.require(request)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error answered while CSV was asked for is JSON, like every other error.
        if isinstance(response, Response) and getattr(request, "accepted_renderer", None).__class__ is CSVRenderer:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    def wants_csv(self) -> bool:
        return getattr(self.request.accepted_renderer, "format", "") == "csv"

    def by_organization(self, queryset: QuerySet[Any], path: str = "organization__slug") -> QuerySet[Any]:
        slug = self.request.query_params.get("organization")
        return queryset.filter(**{path: slug}) if slug else queryset


class UsageView(ListModelMixin, BillingView):
    """Hourly usage rows: hour × container × measure, with the deployment and organization."""

    serializer_class = UsageSerializer

    def get_queryset(self) -> QuerySet[Usage]:
        start, end = ranges.time_range(self.request.query_params)
        params = self.request.query_params
        # The organization's slug is on every row: joined here, not fetched per row.
        usage = access.scoped(Usage.objects.filter(hour__gte=start, hour__lt=end), self.billing)
        usage = self.by_organization(usage.select_related("organization"))
        if params.get("deployment"):
            usage = usage.filter(deployment_name=params["deployment"])
        if params.get("measure"):
            if params["measure"] not in MEASURES:
                raise Invalid(f"measure must be one of {', '.join(MEASURES)}", field="measure")
            usage = usage.filter(measure=params["measure"])
        return usage.order_by("hour", "pk")

    @extend_schema(
        parameters=[
            *RANGE,
            OpenApiParameter("deployment", OpenApiTypes.STR, description="a deployment's name"),
            OpenApiParameter("measure", OpenApiTypes.STR, enum=MEASURES),
        ]
    )
    def get(self, request: Request) -> HttpResponseBase:
        usage = self.get_queryset()
        if self.wants_csv():
            return exports.streamed(exports.USAGE_HEADER, exports.usage_rows(usage), "usage")
        return self.list(request)


class InvoiceListView(ListModelMixin, BillingView):
    """Invoices whose month starts in the range (default: the last twelve months); the CSV has every line."""

    serializer_class = InvoiceSerializer

    def get_queryset(self) -> QuerySet[Invoice]:
        params = self.request.query_params
        start, end = ranges.time_range({"from": params.get("from", ""), "to": params.get("to", "")})
        if not params.get("from") and not params.get("to"):
            start = (start.replace(day=1) - ranges.timedelta(days=335)).replace(day=1)
        invoices_ = access.scoped(Invoice.objects.filter(month__gte=start.date(), month__lt=end.date()), self.billing)
        if params.get("status"):
            if params["status"] not in Invoice.Status.values:
                raise Invalid("status must be draft or final", field="status")
            invoices_ = invoices_.filter(status=params["status"])
        return self.by_organization(invoices_.select_related("organization")).order_by("-month", "organization__slug")

    @extend_schema(parameters=[*RANGE, OpenApiParameter("status", OpenApiTypes.STR, enum=Invoice.Status.values)])
    def get(self, request: Request) -> HttpResponseBase:
        listed = self.get_queryset()
        if self.wants_csv():
            lines = InvoiceLine.objects.filter(invoice__in=listed.values("pk"))
            return exports.streamed(exports.LINE_HEADER, exports.line_rows(lines), "invoices")
        return self.list(request)


def find(request: Request, current: Access, pk: Any) -> Invoice:
    """The invoice if the caller's organization owns it (404 otherwise), and only then the role
    check (403); a draft is recomputed first."""
    invoice = access.lookup(Invoice.objects.select_related("organization"), current).filter(pk=_int(pk)).first()
    if invoice is None:
        raise Http404("no such invoice")
    access.require(request)
    if not invoice.is_final:
        invoice = invoices.refresh(invoice.organization_id, invoice.month)
    return invoice


def _int(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Http404("no such invoice") from None


class InvoiceDetailView(BillingView):
    """One invoice and its lines (a draft is recomputed from the usage so far)."""

    serializer_class = InvoiceDetailSerializer
    lookup_first = True

    @extend_schema(parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])])
    def get(self, request: Request, pk: str) -> HttpResponseBase:
        invoice = find(request, self.billing, pk)
        if self.wants_csv():
            lines = InvoiceLine.objects.filter(invoice=invoice)
            return exports.streamed(exports.LINE_HEADER, exports.line_rows(lines), f"invoice-{invoice.pk}")
        invoice = Invoice.objects.select_related("organization").prefetch_related("lines").get(pk=invoice.pk)
        return Response(InvoiceDetailSerializer(invoice).data)


class InvoiceFinalizeView(BillingView):
    """Staff finalize a closed month's invoice: numbered and frozen (400 while the month is open, 409 if final)."""

    serializer_class = InvoiceDetailSerializer
    lookup_first = True

    @extend_schema(request=None)
    def post(self, request: Request, pk: str) -> Response:
        invoice = find(request, self.billing, pk)
        if not self.billing.staff:
            raise Forbidden("only staff finalize an invoice before the beat task does")
        invoice = invoices.finalize(invoice.organization_id, invoice.month, actor=self.billing.username)
        invoice = Invoice.objects.select_related("organization").prefetch_related("lines").get(pk=invoice.pk)
        return Response(InvoiceDetailSerializer(invoice).data)


class CreditListView(ListModelMixin, BillingView):
    """Credits: owed back to an organization, each a credit line on its next invoice. Staff grant them."""

    serializer_class = CreditSerializer

    def get_queryset(self) -> QuerySet[Credit]:
        listed = access.scoped(Credit.objects.select_related("organization"), self.billing)
        return self.by_organization(listed).order_by("-created_at", "-pk")

    @extend_schema(
        tags=["billing"],
        parameters=[OpenApiParameter("organization", OpenApiTypes.STR, description="a slug (staff see every one)")],
    )
    def get(self, request: Request) -> HttpResponseBase:
        return self.list(request)

    @extend_schema(tags=["billing"], request=CreditRequestSerializer, responses={201: CreditSerializer})
    def post(self, request: Request) -> Response:
        if not self.billing.staff:
            raise Forbidden("only staff grant credits")
        body = request.data if isinstance(request.data, dict) else {}
        credit = credits.grant(
            body.get("organization"),
            body.get("amount"),
            body.get("reason"),
            currency=body.get("currency"),
            actor=self.billing.username,
        )
        return Response(CreditSerializer(credit).data, status=201)
