"""Template filters for the console's tables."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from decimal import Decimal

from django import template
from django.utils.safestring import SafeString, mark_safe

from orchestrator_site.units import format_memory

register = template.Library()


@register.filter
def memory(size: int | None) -> str:
    """Bytes as the ``128m`` / ``1g`` form users type into limits."""
    if size is None:
        return "—"
    return format_memory(size)


@register.filter
def cores(value: Decimal | None) -> str:
    """``Decimal("1.500")`` -> ``1.5`` (never the ``1E+1`` that ``normalize()`` alone gives for 10)."""
    if value is None:
        return "—"
    return format(value.normalize(), "f")


@register.filter
def utc_time(value: datetime | None) -> SafeString | str:
    """``<time datetime="<ISO 8601>">2026-11-24 19:55:08</time>``, in UTC (as the tables' headers say).

    The lists print a time on every row, and two ``date`` filters per row were the largest part of
    their render time: this is one ``isoformat`` and one ``strftime``.
    """
    if value is None:
        return "—"
    utc = value.astimezone(UTC)
    # Digits, dashes, colons, a dot and a plus: nothing to escape.
    return mark_safe(f'<time datetime="{utc.isoformat()}">{utc:%Y-%m-%d %H:%M:%S}</time>')


@register.filter
def shell_join(argv: list[str] | None) -> str:
    """``["sh", "-c", "echo hi; sleep 1"]`` -> ``sh -c 'echo hi; sleep 1'``: the command as it would be typed."""
    return shlex.join(argv or [])
