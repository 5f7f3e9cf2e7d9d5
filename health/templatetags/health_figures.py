"""Template filters for health figures: byte counts, percentages and ages as a console prints them."""

from __future__ import annotations

from django import template

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
