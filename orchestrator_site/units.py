"""Parsing of the resource limits users type: CPU in fractional cores, memory as ``128m`` / ``1g``.

On the bottom floor because settings parse their defaults with it too (``DEFAULT_CPU_LIMIT``,
``DEFAULT_MEMORY_LIMIT``), once, at start-up.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Docker refuses memory limits below 6 MB.
MIN_MEMORY_BYTES = 6 * 1024 * 1024
MIN_CPU = Decimal("0.01")
MAX_CPU = Decimal("512")
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_cpu(value: object) -> Decimal:
    """``"0.25"`` -> ``Decimal("0.25")`` cores; raises ValueError with a message for the user."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a number of CPU cores, e.g. 0.25")
    try:
        cores = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number of CPU cores (e.g. 0.25)") from None
    if not cores.is_finite():
        raise ValueError("must be a finite number of CPU cores")
    if cores < MIN_CPU:
        raise ValueError(f"must be at least {MIN_CPU} cores")
    if cores > MAX_CPU:
        raise ValueError(f"must be at most {MAX_CPU} cores")
    if cores != cores.quantize(Decimal("0.001")):
        raise ValueError("at most three decimal places (millicores)")
    return cores


def parse_memory(value: object) -> int:
    """``"128m"`` -> bytes; accepts b, k, m, g, t (binary units, optional ``b``/``ib``)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a size such as 128m or 1g")
    if isinstance(value, int):
        text = str(value)
    else:
        text = str(value)
    match = _MEMORY.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a size (use e.g. 64m, 512m, 1g)")
    number, unit = match.groups()
    size = int(Decimal(number) * _UNITS[unit.lower()])
    if size < MIN_MEMORY_BYTES:
        raise ValueError("must be at least 6m (Docker's minimum)")
    if size > 1024**4:
        raise ValueError("must be at most 1t")
    return size


def format_memory(size: int) -> str:
    """Bytes -> the shortest exact ``g``/``m``/``k`` form, for display and forms."""
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)
