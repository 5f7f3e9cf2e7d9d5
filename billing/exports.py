"""CSV exports, streamed row by row: usage (hour × container × measure) and invoices with their lines.

Quantities and amounts are written as the Decimals they are (no float, no thousands separator), so
summing the ``amount`` column of an invoice's lines gives its total to the cent, and summing the
usage of a deployment and measure gives that line's quantity.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from billing.models import Invoice, InvoiceLine, Measure, Usage
from orchestrator_site.csvcells import safe_row

USAGE_HEADER = ["hour", "organization", "deployment", "container", "docker_id", "measure", "unit", "quantity"]
LINE_HEADER = [
    "invoice",
    "organization",
    "month",
    "status",
    "currency",
    "invoice_total",
    "kind",
    "measure",
    "deployment",
    "plan",
    "description",
    "quantity",
    "unit_price",
    "amount",
]
UNITS = {
    Measure.CPU_RESERVED: "vCPU-hour",
    Measure.CPU_USED: "CPU-second",
    Measure.MEMORY_RESERVED: "GB-hour",
    Measure.MEMORY_USED: "GB-hour",
    Measure.NETWORK_OUT: "GB",
    Measure.STORAGE: "GB-month",
    Measure.CONTAINER_HOURS: "container-hour",
}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def usage_rows(usage: QuerySet[Usage]) -> Iterator[list[str]]:
    for u in usage.select_related("organization").order_by("hour", "pk").iterator(chunk_size=2000):
        yield [
            u.hour.isoformat(),
            # Names come from users: no cell of theirs may be opened as a formula. Numbers are ours,
            # and a credit's "-1.23" must stay a number that sums.
            *safe_row([u.organization.slug, u.deployment_name, u.container_name]),
            u.docker_id,
            u.measure,
            UNITS.get(Measure(u.measure), ""),
            str(u.quantity),
        ]


def line_rows(lines: QuerySet[InvoiceLine]) -> Iterator[list[str]]:
    for line in (
        lines.select_related("invoice__organization")
        .order_by("invoice__month", "invoice", "pk")
        .iterator(chunk_size=2000)
    ):
        invoice: Invoice = line.invoice
        yield [
            *safe_row([invoice.label, invoice.organization.slug]),
            f"{invoice.month:%Y-%m}",
            invoice.status,
            invoice.currency,
            str(invoice.total),
            line.kind,
            line.measure,
            *safe_row([line.deployment_name, line.plan_name, line.description]),
            str(line.quantity),
            str(line.unit_price),
            str(line.amount),
        ]


def streamed(header: list[str], rows: Iterable[list[str]], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_lines(header, rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
