"""``GET /metrics`` for Prometheus: every container's latest figures, the sampler's and reconcile's timings.

Everything is read from the database at scrape time by one custom collector, so the answer is
the same whichever web process serves it and whichever worker did the work: per-container
figures in one query, the duration histograms in another, the sampler's last round in a third.
Like every path but ``/health`` it needs credentials (Prometheus: ``authorization`` with
``type: Token``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from health import sampler
from health.models import ContainerHealth, HealthClass
from orchestrator_site.processes import durations
from tenancy.access import access

LABELS = ["container", "id", "deployment"]
GAUGES = [
    ("cpu_pct", "orchestrator_container_cpu_percent", "CPU used, in % of the container's CPU limit"),
    ("memory_bytes", "orchestrator_container_memory_bytes", "Memory used (usage less inactive page cache)"),
    ("memory_pct", "orchestrator_container_memory_percent", "Memory used, in % of the container's memory limit"),
    ("memory_limit_bytes", "orchestrator_container_memory_limit_bytes", "The container's memory limit"),
    ("pids", "orchestrator_container_pids", "Processes and threads in the container"),
]
COUNTERS = [
    ("net_rx_bytes", "orchestrator_container_network_receive_bytes", "Bytes received (reset on restart)"),
    ("net_tx_bytes", "orchestrator_container_network_transmit_bytes", "Bytes transmitted (reset on restart)"),
    ("blk_read_bytes", "orchestrator_container_blkio_read_bytes", "Block device bytes read (reset on restart)"),
    ("blk_write_bytes", "orchestrator_container_blkio_write_bytes", "Block device bytes written (reset on restart)"),
]
HISTOGRAMS = {
    "sampler": ("orchestrator_sampler_duration_seconds", "How long a sampling round took"),
    "reconcile": ("orchestrator_reconcile_duration_seconds", "How long converging one deployment took"),
}


class DatabaseCollector(Collector):
    """Reads the latest figures at scrape time (no state in this process)."""

    def collect(self) -> Iterator[Metric]:
        yield from self._containers()
        yield from self._sampler()
        for name, histogram in durations.histograms().items():
            if name not in HISTOGRAMS:
                continue
            metric, documentation = HISTOGRAMS[name]
            buckets = [("+Inf" if le >= durations.INF else repr(float(le)), count) for le, count in histogram.buckets]
            yield HistogramMetricFamily(metric, documentation, buckets=buckets, sum_value=histogram.sum_s)

    def _containers(self) -> Iterator[Metric]:
        gauges = {field: GaugeMetricFamily(name, doc, labels=LABELS) for field, name, doc in GAUGES}
        counters = {field: CounterMetricFamily(name, doc, labels=LABELS) for field, name, doc in COUNTERS}
        cpu_seconds = CounterMetricFamily(
            "orchestrator_container_cpu_usage_seconds", "CPU time used (reset on restart)", labels=LABELS
        )
        classes = GaugeMetricFamily(
            "orchestrator_container_health", "1 for the container's current class", labels=[*LABELS, "class"]
        )
        sampled = GaugeMetricFamily(
            "orchestrator_container_last_sample_timestamp_seconds", "When the figures were read", labels=LABELS
        )
        fields = [field for field, _, _ in GAUGES + COUNTERS]
        # One query for every container: the figures and the names to label them with.
        rows = ContainerHealth.objects.values_list(
            "container__name",
            "container__docker_id",
            "container__deployment__name",
            "health_class",
            "sampled_at",
            "cpu_usage_ns",
            *fields,
        ).order_by("container__name")
        for name, docker_id, deployment, health_class, sampled_at, cpu_ns, *values in rows:
            labels = [name, docker_id[:12], deployment]
            for field, value in zip(fields, values, strict=True):
                if value is not None:
                    (gauges.get(field) or counters[field]).add_metric(labels, float(value))
            if cpu_ns is not None:
                cpu_seconds.add_metric(labels, cpu_ns / 1e9)
            for choice in HealthClass.values:
                classes.add_metric([*labels, choice], 1.0 if choice == health_class else 0.0)
            sampled.add_metric(labels, sampled_at.timestamp())
        yield from gauges.values()
        yield cpu_seconds
        yield from counters.values()
        yield classes
        yield sampled

    def _sampler(self) -> Iterator[Metric]:
        state = sampler.status()
        if state.last_round_at is None:
            return
        detail = state.detail
        yield GaugeMetricFamily(
            "orchestrator_sampler_last_round_timestamp_seconds",
            "When the last sampling round started",
            value=state.last_round_at.timestamp(),
        )
        yield GaugeMetricFamily(
            "orchestrator_sampler_lag_seconds",
            "How far the next sampling round is overdue (age of the last round beyond one interval)",
            value=state.lag_s or 0.0,
        )
        yield GaugeMetricFamily(
            "orchestrator_sampler_interval_seconds", "The sampling interval", value=state.interval_s
        )
        if "duration_ms" in detail:
            yield GaugeMetricFamily(
                "orchestrator_sampler_last_duration_seconds",
                "How long the last sampling round took",
                value=detail["duration_ms"] / 1000,
            )
            yield GaugeMetricFamily(
                "orchestrator_sampler_containers", "Containers in the last round", value=detail.get("containers", 0)
            )
        disk = detail.get("disk")
        if disk:
            yield GaugeMetricFamily(
                "orchestrator_host_disk_total_bytes", "Disk holding Docker's data", disk["total_bytes"]
            )
            yield GaugeMetricFamily("orchestrator_host_disk_used_bytes", "Used on that disk", disk["used_bytes"])


registry = CollectorRegistry(auto_describe=False)
registry.register(DatabaseCollector())


class AnyAccept(BaseContentNegotiation):
    """Scrapers ask for ``text/plain`` or OpenMetrics; the answer is the text format whatever they ask."""

    def select_parser(self, request: Request, parsers: Iterable[Any]) -> Any:
        return next(iter(parsers), None)

    def select_renderer(self, request: Request, renderers: Iterable[Any], format_suffix: str | None = None) -> Any:
        first = next(iter(renderers))
        return first, first.media_type


class MetricsView(APIView):
    """The Prometheus text format; authentication like every other path (a DRF token or a session)."""

    content_negotiation_class = AnyAccept

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request) -> HttpResponse:
        # Every organization's figures: staff, or a token made with the metrics scope (by staff).
        who = access(request)
        if not (who.staff or (who.token is not None and who.token.metrics)):
            raise PermissionDenied("/metrics is for staff or a token with the metrics scope.")
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
