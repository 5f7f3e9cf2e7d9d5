"""Template filters for the console's tables."""

from __future__ import annotations

from decimal import Decimal

from django import template

from containers.limits import format_memory

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
