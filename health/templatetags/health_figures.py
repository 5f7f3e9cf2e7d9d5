"""Template filters for health figures: byte counts, percentages and ages as a console prints them; the fleet
table's rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

UNITS = ["B", "KiB", "MiB", "GiB", "TiB"]
# A row with no figures yet passes the template's empty string for a missing attribute.
MISSING = (None, "")


@register.filter
def size(value: float | str | None) -> str:
    """``16777216`` -> ``16.0 MiB``; ``None`` -> ``—``. Binary units, as the memory limits are."""
    if value in MISSING:
        return "—"
    amount = float(value)
    for unit in UNITS:
        if abs(amount) < 1024 or unit == UNITS[-1]:
            # Limits are whole units (64 MiB): no ".0" to read past.
            whole = unit == "B" or amount == int(amount)
            return f"{amount:.0f} {unit}" if whole else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


@register.filter
def pct(value: float | str | None) -> str:
    """``12.345`` -> ``12.3 %``; ``None`` -> ``—``."""
    return "—" if value in MISSING else f"{value:.1f} %"


@register.filter
def age(seconds: float | None) -> str:
    """How long ago, short: ``4 s``, ``3 min``, ``2 h``, ``5 d``; ``None`` -> ``—``."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


@register.filter
def class_label(value: str) -> str:
    """A health class as shown: ``unknown`` (no sample yet) reads ``not sampled``."""
    return "not sampled" if value == "unknown" else value


@register.simple_tag
def fleet_rows(rows: Iterable[Any], warning_pct: float, critical_pct: float) -> SafeString:
    r"""The fleet table's ``<tr>``s: :class:`health.console.FleetRow`\ s, every user-given name escaped.

    Built in Python rather than by a template loop: 50 rows of eleven cells with a filter each cost more
    than the page's queries and the rest of its template together (a missing figure is the slowest case
    for the template language: each lookup on None raises and is retried).
    """
    meter = (
        f'<meter min="0" max="100" low="{warning_pct}" high="{critical_pct}" optimum="0" value="{{:.2f}}"'
        ' aria-hidden="true"></meter> '
    )
    return mark_safe("".join(_fleet_row(row, meter) for row in rows))


def _fleet_row(c: Any, meter: str) -> str:
    cpu = memory = memory_pct = rx = tx = "—"
    pids = sampled = "—"
    if c.sampled_at is not None:  # it has figures
        cpu = (meter.format(c.cpu_pct) if c.cpu_pct is not None else "") + pct(c.cpu_pct)
        memory = size(c.memory_bytes)
        if c.memory_limit_bytes:
            memory += f' <span class="muted">/ {size(c.memory_limit_bytes)}</span>'
        memory_pct = (meter.format(c.memory_pct) if c.memory_pct is not None else "") + pct(c.memory_pct)
        rx, tx = size(c.net_rx_bytes), size(c.net_tx_bytes)
        pids = "—" if c.pids is None else str(c.pids)
    if c.age_s is not None:
        taken = timezone.localtime(c.sampled_at).isoformat()
        sampled = f'<span title="{taken}">{age(c.age_s)} ago</span>'
        if c.stale:
            sampled += ' <small class="muted">stale</small>'
    name, health_class = escape(c.name), escape(c.health_class)
    stale = ' class="stale"' if c.stale else ""
    return (
        f'<tr id="fleet-{c.pk}" data-class="{health_class}"{stale}>'
        f'<td><span class="hclass hclass-{health_class}">{class_label(health_class)}</span></td>'
        f'<td class="name"><a href="/deployments/{c.deployment_id}/">{escape(c.deployment_name)}</a></td>'
        f'<th scope="row" class="name"><a href="/console/containers/{c.pk}/">{name}</a></th>'
        f'<td class="count cpu">{cpu}</td><td class="count memory">{memory}</td>'
        f'<td class="count memory-pct">{memory_pct}</td><td class="count">{rx}</td><td class="count">{tx}</td>'
        f'<td class="count">{pids}</td><td class="count">{sampled}</td>'
        f'<td class="charts"><a href="/console/health/containers/{c.pk}/" aria-label="Charts of {name}">Charts</a></td>'
        "</tr>"
    )
